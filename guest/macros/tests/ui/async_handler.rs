use nanohttp::prelude::*;

struct Root;

#[controller]
impl Root {
    #[text]
    async fn index(&self) -> &'static str {
        "hi"
    }
}

fn main() {}
