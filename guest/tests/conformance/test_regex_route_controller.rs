//! `nanohttp/tests/test_regex_route_controller.py`: routes by regular expression.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[regex_controller]
impl Root {
    #[action]
    #[route(r"/foos/(?P<id>\d+)/bars")]
    fn bars(&self, id: u32) -> String {
        id.to_string()
    }
}

impl Application for Root {}

#[test]
fn test_regex_controller() {
    let client = TestClient::new(Root);
    let response = client.get("/foos/1/bars").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "1"));
    for path in ["/foos", "/foos/bars", "/foos/1/2/bars", "/foos/a/bars"] {
        assert_eq!(client.get(path).send().status, 404, "{path}");
    }
}
