//! A `#[global_allocator]` that counts: live bytes, their peak, and allocations made.
//!
//! The loopback server runs on threads that call [`ignore_this_thread`], so the figures are
//! the client side's alone (nothing allocated there is freed on the other side: the two
//! only share a TCP socket).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering::Relaxed};

/// `System`, counted.
pub struct Counting;

static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static IGNORED: Cell<bool> = const { Cell::new(false) };
}

/// Stops counting what the calling thread allocates (the server's threads).
pub fn ignore_this_thread() {
    IGNORED.with(|ignored| ignored.set(true));
}

fn counted() -> bool {
    IGNORED.try_with(|ignored| !ignored.get()).unwrap_or(true)
}

fn grow(bytes: usize) {
    if counted() {
        ALLOCATIONS.fetch_add(1, Relaxed);
        let now = CURRENT.fetch_add(bytes as isize, Relaxed) + bytes as isize;
        if now > PEAK.load(Relaxed) {
            PEAK.fetch_max(now, Relaxed);
        }
    }
}

fn shrink(bytes: usize) {
    if counted() {
        CURRENT.fetch_sub(bytes as isize, Relaxed);
    }
}

/// Bytes live now.
pub fn current() -> isize {
    CURRENT.load(Relaxed)
}

/// The most bytes live at once since the last [`reset_peak`].
pub fn peak() -> isize {
    PEAK.load(Relaxed)
}

/// Starts a new peak from what is live now.
pub fn reset_peak() {
    PEAK.store(CURRENT.load(Relaxed), Relaxed);
}

/// Allocations made so far (reallocations count as one).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Relaxed)
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on to `System` as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Counted as the copy it may be: both blocks live for a moment.
            grow(new_size);
            shrink(layout.size());
        }
        new
    }
}
