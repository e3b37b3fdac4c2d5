use nanohttp::prelude::*;

struct Root;

#[controller]
impl Root {
    #[text]
    fn index(&mut self) -> &'static str {
        "hi"
    }
}

fn main() {}
