use nanohttp::prelude::*;

struct Root;

#[controller]
impl Root {
    #[text]
    fn index(&self) -> u32 {
        1
    }
}

fn main() {}
