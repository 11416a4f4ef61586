//! The C ABI: `#[no_mangle] lms_*` functions that check arguments, run the safe API behind
//! `catch_unwind`, and translate results into status codes, out-parameters and a thread-local
//! message. No domain logic lives here.
#![allow(non_camel_case_types)]
// Every function shares one safety contract, stated once in the header's preamble (pointers
// valid for their lengths during the call, handles from lms_open() and not yet closed), rather
// than repeated in each function's documentation.
#![allow(clippy::missing_safety_doc)]

mod batch;
mod boundary;
mod consistency;
mod conversations;
mod decode;
mod decode_lists;
mod env;
mod format;
mod import;
mod reads;
mod recovery;
mod render;
mod templates;

pub use batch::*;
pub use boundary::*;
pub use consistency::*;
pub use conversations::*;
pub use decode::*;
pub use decode_lists::*;
pub use env::*;
pub use format::*;
pub use import::*;
pub use reads::*;
pub use recovery::*;
pub use render::*;
pub use templates::*;
