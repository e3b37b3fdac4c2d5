use nanohttp::prelude::*;

struct Root;

#[controller]
impl Root {
    #[text]
    fn edit(&self, name: &str) -> String {
        name.to_owned()
    }
}

fn main() {}
