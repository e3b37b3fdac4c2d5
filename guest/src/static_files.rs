//! Static files: a controller that maps the remaining path to a file under a directory.

use std::fs::{self, File, Metadata};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;
use http::header::{
    ACCEPT_RANGES, CONTENT_RANGE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RANGE,
};

use crate::context::Context;
use crate::dispatch::Controller;
use crate::response::{Body, Outcome};
use crate::status::HttpStatus;

/// How much of a file is read at a time while it is sent.
const PIECE: usize = 64 * 1024;

/// Serves the files under a directory (nanohttp's `Static`), mountable anywhere in a tree.
///
/// - The remaining segments name a file under the directory; a directory serves its default
///   document (`index.html` unless changed), or `404`. No listings.
/// - Content type by extension, `Content-Length`, `Last-Modified`, `ETag`; `If-None-Match` and
///   `If-Modified-Since` answer `304`; a single `Range` answers `206` (or `416`). Files are
///   streamed in 64 KiB pieces, never read whole. Empty files are `200` with an empty body.
/// - Nothing outside the directory is reachable: segments `..` and `.`, segments holding `/`
///   (an encoded `%2f`), `\` or NUL are refused with `404`, and where the platform can resolve
///   paths, a file whose real path leaves the directory (a symlink) is `403`. In a component,
///   the host's filesystem sandbox confines it as well.
/// - GET and HEAD only; other verbs are `405` with `Allow`.
///
/// In a component the directory is one the host maps in (`nanohttp --dir HOST::GUEST`).
#[derive(Debug, Clone)]
pub struct Static {
    root: PathBuf,
    default_document: Option<String>,
}

impl Static {
    /// Files under `root`, with `index.html` as the default document.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            default_document: Some("index.html".to_owned()),
        }
    }

    /// Changes the default document of directories (`None`: directories are `404`).
    #[must_use]
    pub fn default_document(mut self, name: Option<&str>) -> Self {
        self.default_document = name.map(str::to_owned);
        self
    }

    /// The file a request names, or why there is none.
    fn resolve(&self, path: &[String]) -> Result<(PathBuf, Metadata), HttpStatus> {
        let mut file = self.root.clone();
        let last = path.len().saturating_sub(1);
        for (index, segment) in path.iter().enumerate() {
            if segment.is_empty() && index == last {
                break; // a trailing slash: the directory itself
            }
            let forbidden = matches!(segment.as_str(), "" | "." | "..")
                || segment.contains(['/', '\\', '\0'])
                || Path::new(segment).is_absolute();
            if forbidden {
                return Err(HttpStatus::not_found());
            }
            file.push(segment);
        }
        let mut metadata = fs::metadata(&file).map_err(|_| HttpStatus::not_found())?;
        if metadata.is_dir() {
            let document = self
                .default_document
                .as_ref()
                .ok_or_else(HttpStatus::not_found)?;
            file.push(document);
            metadata = fs::metadata(&file).map_err(|_| HttpStatus::not_found())?;
        }
        if !metadata.is_file() {
            return Err(HttpStatus::not_found());
        }
        self.confine(&file)?;
        Ok((file, metadata))
    }

    /// Refuses a file whose real path (symlinks resolved) leaves the root. Where paths cannot
    /// be resolved (WASI has no `realpath`), the host's sandbox does this job.
    fn confine(&self, file: &Path) -> Result<(), HttpStatus> {
        match (fs::canonicalize(&self.root), fs::canonicalize(file)) {
            (Ok(root), Ok(real)) if !real.starts_with(&root) => Err(HttpStatus::forbidden()),
            _ => Ok(()),
        }
    }
}

impl Controller for Static {
    fn dispatch<'a>(&'a self, ctx: &mut Context, path: &[String]) -> Outcome<'a> {
        match *ctx.method() {
            Method::GET | Method::HEAD => {}
            Method::OPTIONS => {
                ctx.set_status(204);
                ctx.set_header(http::header::ALLOW, "GET, HEAD, OPTIONS")?;
                return Ok(Body::Empty);
            }
            _ => return Err(HttpStatus::method_not_allowed_for("GET, HEAD, OPTIONS")),
        }
        let (file, metadata) = self.resolve(path)?;
        let size = metadata.len();
        let modified = metadata.modified().ok();
        let etag = etag(size, modified);

        ctx.set_header(ETAG, &etag)?;
        ctx.set_header(ACCEPT_RANGES, "bytes")?;
        if let Some(modified) = modified {
            ctx.set_header(LAST_MODIFIED, httpdate::fmt_http_date(modified))?;
        }
        let mime = mime_guess::from_path(&file).first_or_octet_stream();
        ctx.set_content_type(mime.essence_str().to_owned());
        let text = mime.type_() == mime_guess::mime::TEXT
            || mime.essence_str() == "application/javascript"
            || mime.essence_str() == "application/json";
        ctx.set_encoding(text.then_some("utf-8"));

        if not_modified(ctx, &etag, modified) {
            return Err(HttpStatus::not_modified());
        }
        let (start, length) = match requested_range(ctx, size) {
            Range::Whole => (0, size),
            Range::Part(start, end) => {
                ctx.set_status(206);
                ctx.set_header(CONTENT_RANGE, format!("bytes {start}-{end}/{size}"))?;
                (start, end - start + 1)
            }
            Range::Unsatisfiable => {
                return Err(HttpStatus::new(416, "Range Not Satisfiable")
                    .with_header(CONTENT_RANGE, &format!("bytes */{size}")));
            }
        };
        if length == 0 {
            return Ok(Body::Empty);
        }
        let mut opened = File::open(&file).map_err(|_| HttpStatus::not_found())?;
        if start > 0 {
            opened.seek(SeekFrom::Start(start)).map_err(|error| {
                HttpStatus::internal_server_error().with_detail(error.to_string())
            })?;
        }
        Ok(Body::SizedStream(
            length,
            Box::new(read_pieces(opened.take(length))),
        ))
    }
}

/// A weak validator from size and modification time: cheap, and changes when the file does.
fn etag(size: u64, modified: Option<SystemTime>) -> String {
    let nanos = modified
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("W/\"{size:x}-{nanos:x}\"")
}

fn not_modified(ctx: &Context, etag: &str, modified: Option<SystemTime>) -> bool {
    if let Some(tags) = ctx.header(IF_NONE_MATCH) {
        // If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2).
        return tags
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == "*" || tag == etag.trim_start_matches("W/"));
    }
    match (
        ctx.header(IF_MODIFIED_SINCE)
            .and_then(|d| httpdate::parse_http_date(d).ok()),
        modified,
    ) {
        // HTTP dates have whole seconds.
        (Some(since), Some(modified)) => {
            let seconds = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            seconds(modified) <= seconds(since)
        }
        _ => false,
    }
}

enum Range {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// A single `bytes=` range; several ranges, or a header that does not parse, get the whole
/// file (which RFC 9110 allows).
fn requested_range(ctx: &Context, size: u64) -> Range {
    let Some(spec) = ctx
        .header(RANGE)
        .and_then(|r| r.trim().strip_prefix("bytes="))
    else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Range::Whole;
    };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => Some((start, end.min(size.saturating_sub(1)))),
        (Ok(start), Err(_)) if end.is_empty() => Some((start, size.saturating_sub(1))),
        (Err(_), Ok(suffix)) if start.is_empty() && suffix > 0 => {
            Some((size.saturating_sub(suffix), size.saturating_sub(1)))
        }
        _ => return Range::Whole,
    };
    match parsed {
        Some((start, end)) if start < size => Range::Part(start, end),
        _ => Range::Unsatisfiable,
    }
}

fn read_pieces(mut file: impl Read) -> impl Iterator<Item = Result<Vec<u8>, HttpStatus>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut piece = vec![0; PIECE];
        match file.read(&mut piece) {
            Ok(0) => None,
            Ok(n) => {
                piece.truncate(n);
                Some(Ok(piece))
            }
            Err(error) => {
                done = true;
                Some(Err(
                    HttpStatus::internal_server_error().with_detail(error.to_string())
                ))
            }
        }
    })
}
