//! The C ABI: `#[no_mangle] lms_*` functions that check arguments, run the safe API behind
//! `catch_unwind`, and translate results into status codes, out-parameters and a thread-local
//! message. No domain logic lives here.
#![allow(non_camel_case_types)]
// Every function shares one safety contract, stated once in the header's preamble (pointers
// valid for their lengths during the call, handles from lms_open() and not yet closed), rather
// than repeated in each function's documentation.
#![allow(clippy::missing_safety_doc)]

mod boundary;
mod conversations;
mod decode;
mod env;
mod templates;

pub use boundary::*;
pub use conversations::*;
pub use decode::*;
pub use env::*;
pub use templates::*;
