use nanohttp::prelude::*;

struct Root;

#[regex_controller]
impl Root {
    #[text]
    #[route(r"/user/(?P<id>\d+)")]
    fn user(&self, id: u32, page: u32) -> String {
        format!("{id} {page}")
    }
}

fn main() {}
