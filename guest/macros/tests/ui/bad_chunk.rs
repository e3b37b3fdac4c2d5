// The original nanohttp's `test_iterable_but_bad_response` (a generator yielding an integer, a
// `TypeError` per request) is a compile error here: a `Stream`'s pieces must be text or bytes.
use nanohttp::prelude::*;

struct Root;

#[controller]
impl Root {
    #[action]
    fn index(&self) -> Stream<Vec<u32>> {
        Stream(vec![352345352])
    }
}

fn main() {}
