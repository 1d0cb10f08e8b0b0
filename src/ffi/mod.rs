//! The C ABI: `extern "C"` functions over validated handles, one file per
//! subject. The rules every export keeps:
//!
//! - It runs its body in [`errors::guard`]: a panic never crosses into C
//!   (it becomes -EIO), and an error becomes a negative errno with this
//!   thread's last-error message set.
//! - It returns 0, a documented non-negative count, or a negative errno;
//!   results come back through out-parameters.
//! - Handles are checked by [`handles`] (null: -EINVAL; closed, stale or of
//!   another kind: -EBADF). Pointers are read only through [`args`], which
//!   turns a required NULL into -EINVAL; an export that dereferences a
//!   pointer is `unsafe` and its `# Safety` section says what the C caller
//!   guarantees about it.
//! - Options and info structs start with `sz` and only grow at the end.
//!
//! Dependencies point one way: the subject modules (object, program, link,
//! map, buffers, callbacks) use `args`, `errors`, `handles` and `types`;
//! `handles` uses `consumers` (the buffer state it stores); none of those
//! uses a subject module. `object` and `program` use `link` to register the
//! links they make.
#![allow(non_camel_case_types)]

// The exports, in the header's order (cbindgen reads modules in the order
// they are declared; blank lines keep rustfmt from sorting them).
mod version;

mod errors;

mod callbacks;

mod object;

mod program;

mod program_setup;
mod probe;

mod link;

mod kinds;

mod map;

mod map_setup;
mod globals;
mod map_batch;
mod cgroup_sock;

mod buffers;

mod net;

mod loaded;

// What the exports share.
mod args;
mod consumers;
mod handles;
mod types;
mod types_net;
