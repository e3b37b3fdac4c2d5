use nanohttp::prelude::*;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    #[text]
    fn index(&self) -> &'static str {
        "hi"
    }
}

fn main() {
    let _ = nanohttp::testing::TestClient::new(Root);
}
