//! The module's exports: memory handed between JavaScript and Rust by
//! pointer and length. The only unsafe code of the crate, kept here. The
//! names are the engine's own: a native build (the tests) must not export
//! a `free` or a `read` over the C library's.
//!
//! JavaScript asks [`engine_alloc`] for `len` bytes, writes the input there and
//! calls [`engine_read`], which takes those bytes back (and frees them) and answers
//! the output's pointer and length packed in one `u64` (pointer high, length
//! low); JavaScript copies the output out and hands it to [`engine_free`].

#![allow(unsafe_code)]

/// `len` bytes for the caller to fill, owned by the caller until given to
/// [`engine_read`].
#[unsafe(no_mangle)]
pub extern "C" fn engine_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast()
}

/// Reads the `len` bytes at `ptr` (from [`engine_alloc`]) with
/// [`crate::read_json`]; the answer's pointer and length, packed.
///
/// # Safety
///
/// `ptr` and `len` must be what [`engine_alloc`] gave, not given here before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_read(ptr: *mut u8, len: usize) -> u64 {
    // SAFETY: the caller gives back what `engine_alloc` made, once.
    let input = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
    let output = crate::read_json(&input).into_bytes().into_boxed_slice();
    let len = output.len() as u64;
    let ptr = Box::into_raw(output).cast::<u8>() as usize as u64;
    (ptr << 32) | len
}

/// Frees an answer of [`engine_read`].
///
/// # Safety
///
/// `ptr` and `len` must be an answer of [`engine_read`], not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller gives back what `engine_read` made, once.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
}
