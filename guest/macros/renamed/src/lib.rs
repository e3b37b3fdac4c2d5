//! An application whose framework dependency is named `web`: every controller attribute says
//! `crate = "web"`, and the generated code must reach nothing through `::nanohttp`.

use web::prelude::*;

/// The root: a child of each kind of controller.
#[derive(Debug, Default)]
pub struct Root {
    tips: Tips,
    users: Users,
}

#[controller(crate = "web")]
impl Root {
    #[child]
    fn tips(&self) -> &Tips {
        &self.tips
    }

    #[child]
    fn users(&self) -> &Users {
        &self.users
    }

    #[text(prevent_form)]
    fn index(&self) -> &'static str {
        "home"
    }

    #[json("POST", form_whitelist = ["title", "page"])]
    fn echo(
        &self,
        ctx: &Context,
        #[query] page: Option<u32>,
    ) -> Result<web::serde_json::Value, HttpStatus> {
        Ok(web::serde_json::json!({"form": ctx.form()?.to_json(), "page": page}))
    }
}

impl Application for Root {}

/// Verb dispatch.
#[derive(Debug, Default)]
pub struct Tips;

#[rest_controller(crate = "web", remove_trailing_slash = true)]
impl Tips {
    #[json]
    fn get(&self, id: Option<u32>) -> Option<u32> {
        id
    }

    #[action]
    fn post(&self) -> Redirect {
        Redirect::see_other("/tips/")
    }
}

/// Regex dispatch.
#[derive(Debug, Default)]
pub struct Users;

#[regex_controller(crate = "web")]
impl Users {
    #[text]
    #[route(r"/(?P<id>\d+)")]
    fn user(&self, id: u32) -> String {
        format!("user {id}")
    }
}

#[cfg(test)]
mod tests {
    use web::testing::TestClient;

    use super::Root;

    #[test]
    fn every_kind_of_controller_answers_through_the_renamed_crate() {
        let client = TestClient::new(Root::default());
        assert_eq!(client.get("/").send().text(), "home");
        assert_eq!(client.get("/?x=1").send().status, 400, "prevent_form");
        let echo = client.post("/echo?page=2").form(&[("title", "t")]).send();
        assert_eq!(
            echo.json(),
            serde_json::json!({"form": {"page": "2", "title": "t"}, "page": 2})
        );
        assert_eq!(client.post("/echo").form(&[("x", "1")]).send().status, 400);
        assert_eq!(client.get("/tips/7").send().text(), "7");
        assert_eq!(client.post("/tips").send().status, 303);
        assert_eq!(client.get("/users/42").send().text(), "user 42");
        assert_eq!(client.get("/users/x").send().status, 404);
    }
}
