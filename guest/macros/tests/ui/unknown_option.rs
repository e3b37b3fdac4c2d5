use nanohttp::prelude::*;

struct Root;

#[controller]
impl Root {
    #[json("GET", charset = "utf-8")]
    fn index(&self) -> u32 {
        1
    }
}

fn main() {}
