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

impl Application for Root {
    const SETTINGS: &'static str = nanohttp::yaml!("name: app\ndb: pool: 4\n");
}

struct List;

impl List {
    const SETTINGS: &'static str = nanohttp::yaml!("- a\n- b\n");
}

fn main() {
    let _ = nanohttp::testing::TestClient::new(Root);
    let _ = List::SETTINGS;
}
