//! What the ported tests share: a multipart body builder and a scratch directory.

use std::path::{Path, PathBuf};

/// A `multipart/form-data` body of text fields and files `(name, filename, content)`, and its
/// content type.
pub(crate) fn multipart(
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "conformance-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, filename, content) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// A scratch directory removed on drop: the original's `make_temp_directory` fixture.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory; `files` are `(relative path, content)`, parents created as needed.
    pub(crate) fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "nanohttp-conformance-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (path, content) in files {
            let file = dir.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, content).unwrap();
        }
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The original's `RequestValidator(fields)` called on a form: an application whose one handler
/// validates the request's form against `fields` and answers the (converted) form as JSON.
pub(crate) struct Validating {
    pub(crate) fields: Vec<nanohttp::validate::Field>,
}

#[nanohttp::controller]
impl Validating {
    #[json]
    fn index(
        &self,
        ctx: &mut nanohttp::Context,
    ) -> Result<nanohttp::serde_json::Value, nanohttp::HttpStatus> {
        ctx.validate(&self.fields)?;
        Ok(ctx.form()?.to_json())
    }
}

impl nanohttp::Application for Validating {}

/// Validates `form` (a JSON object, so values keep their types as in the original's dicts)
/// against `fields`: the form as the handler sees it, or the error's status line.
pub(crate) fn validate(
    fields: Vec<nanohttp::validate::Field>,
    form: nanohttp::serde_json::Value,
) -> Result<nanohttp::serde_json::Value, String> {
    let client = nanohttp::testing::TestClient::new(Validating { fields });
    let response = client.post("/").json(&form).send();
    if response.status == 200 {
        Ok(response.json())
    } else {
        let body = response.json();
        Err(format!(
            "{} {}",
            body["status"],
            body["message"].as_str().unwrap()
        ))
    }
}
