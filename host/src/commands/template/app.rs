//! The application's routes, tested natively through `TestClient` (no component, no server).

use nanohttp::testing::TestClient;
use {{crate}}::Root;

#[test]
fn index() {
    let response = TestClient::new(Root::default()).get("/").send();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "Hello from {{name}}!");
}

#[test]
fn hello_takes_a_name_from_the_path() {
    let response = TestClient::new(Root::default()).get("/hello/Alice").send();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "Hello, Alice!");
}

#[test]
fn items_are_json() {
    let client = TestClient::new(Root::default());
    let list = client.get("/items").send();
    assert_eq!(list.status, 200);
    assert_eq!(list.header("content-type"), Some("application/json; charset=utf-8"));
    assert!(list.text().contains("Write a controller"), "{}", list.text());
    assert_eq!(client.get("/items/2").send().text(), r#"{"id":2,"title":"Serve it"}"#);
    assert_eq!(client.get("/items/3").send().status, 404);
}
