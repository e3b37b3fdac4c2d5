use nanohttp::prelude::*;

struct Root;

#[controller]
impl Root {
    #[text]
    fn edit(&self, first: Option<u32>, second: u32) -> String {
        format!("{first:?} {second}")
    }
}

fn main() {}
