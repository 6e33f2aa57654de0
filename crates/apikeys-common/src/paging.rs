//! Pagination as one lazy `Stream` of items, whatever the vendor's style: numbered pages,
//! opaque cursors or offsets. Each vendor says how to fetch one page and what comes next;
//! the filters and sort order it captured go out again on every page.

use std::collections::VecDeque;
use std::future::Future;
use std::hash::{DefaultHasher, Hasher};

use futures::stream::{self, Stream, TryStreamExt};
use serde::Serialize;

use crate::{Error, Result};

/// The most pages one stream fetches. A server that still offers a next page after this
/// many is not paginating: the stream ends with [`Error::Pagination`]. At the vendors'
/// largest page sizes this is millions of keys; at a page size of 1, ten thousand.
pub const MAX_PAGES: u64 = 10_000;

/// One page of items, and where the next page starts (`None` on the last page).
///
/// `C` is the vendor's position: a page number, a cursor string, an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T, C> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Where the next page starts; `None` when this is the last.
    pub next: Option<C>,
    /// How many pages follow this one by the server's own count (a total it sent), when it
    /// sent one. A page that offers a next page although this is 0 ends the stream with
    /// [`Error::Pagination`].
    pub pages_left: Option<u64>,
}

impl<T, C> Page<T, C> {
    /// Sets how many pages follow this one by the server's own count.
    pub fn with_pages_left(mut self, pages_left: Option<u64>) -> Self {
        self.pages_left = pages_left;
        self
    }
}

impl<T> Page<T, u32> {
    /// A page of a numbered-pages API (`page=0,1,2,…` while the server says there is more).
    pub fn numbered(items: Vec<T>, page: u32, has_next: bool) -> Self {
        let next = if has_next { page.checked_add(1) } else { None };
        Page {
            items,
            next,
            pages_left: None,
        }
    }

    /// Sets [`Page::pages_left`] from the server's count of all pages (ThingsBoard's
    /// `totalPages`), this page being number `page` from 0. A negative total is ignored.
    pub fn with_total_pages(self, page: u32, total_pages: i64) -> Self {
        let left = u64::try_from(total_pages)
            .ok()
            .map(|total| total.saturating_sub(u64::from(page)).saturating_sub(1));
        self.with_pages_left(left)
    }
}

impl<T> Page<T, u64> {
    /// A page of an offset/limit API: a full page means there may be more.
    pub fn offset(items: Vec<T>, offset: u64, limit: u64) -> Self {
        let fetched = items.len() as u64;
        let next = if limit > 0 && fetched >= limit {
            offset.checked_add(fetched)
        } else {
            None
        };
        Page {
            items,
            next,
            pages_left: None,
        }
    }
}

impl<T> Page<T, String> {
    /// A page of a cursor API. The cursor is opaque: sent back exactly as received. An
    /// empty cursor means there is no next page.
    pub fn cursor(items: Vec<T>, next: Option<String>) -> Self {
        Page {
            items,
            next: next.filter(|c| !c.is_empty()),
            pages_left: None,
        }
    }
}

impl<T> Page<T, u32> {
    /// Sets [`Page::pages_left`] from a count of every item the server may send beside a
    /// page (Automox's `size`), for pages of `size` items, this one number `page` from 0
    /// with `on_page` items. The count is trusted only when it is larger than this page:
    /// equal, it may count this page alone; smaller, it counts neither. A negative count is
    /// ignored.
    pub fn with_total_items(self, page: u32, size: u64, total: Option<i64>) -> Self {
        let on_page = u64::try_from(self.items.len()).unwrap_or(u64::MAX);
        let left = total
            .and_then(|total| u64::try_from(total).ok())
            .filter(|total| *total > on_page && size > 0)
            .map(|total| {
                let before = u64::from(page).saturating_mul(size);
                total
                    .saturating_sub(before)
                    .saturating_sub(on_page)
                    .div_ceil(size)
            });
        match left {
            Some(left) => self.with_pages_left(Some(left)),
            None => self,
        }
    }
}

/// Reads the next cursor from a next-page link (`https://host/keys?cursor=…&limit=2`, or a
/// relative one): the value of its `param` query parameter, decoded once. No link, or an
/// empty one, means there is no next page; a link without the parameter is an
/// [`Error::Decode`] (never a silent end), which shows the link without its query.
pub fn cursor_from_link(link: Option<&str>, param: &str) -> Result<Option<String>> {
    let Some(link) = link.filter(|link| !link.is_empty()) else {
        return Ok(None);
    };
    let query = link.split_once('?').map_or("", |(_, query)| query);
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == param)
        .map(|(_, cursor)| Some(cursor.into_owned()))
        .ok_or_else(|| Error::Decode {
            reason: format!("the next-page link has no `{param}` parameter"),
            // Not the query: a server may have put anything there.
            excerpt: link
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .chars()
                .take(160)
                .collect(),
        })
}

/// A page-size parameter of a generated builder, whatever integer type progenitor chose.
/// What the generated `.stream()` methods use to read and default the caller's page size.
#[doc(hidden)]
pub trait PageSize: Sized {
    /// The size as set, if it is one (an unset optional is `None`).
    fn get(&self) -> Option<u64>;
    /// A size of `n`, or `None` where the type cannot hold it.
    fn of(n: u64) -> Option<Self>;
}

macro_rules! page_size {
    ($($ty:ty),*) => {$(
        impl PageSize for $ty {
            fn get(&self) -> Option<u64> {
                u64::try_from(*self).ok()
            }
            fn of(n: u64) -> Option<Self> {
                <$ty>::try_from(n).ok()
            }
        }
    )*};
}
page_size!(i32, i64, u32, u64);

impl PageSize for std::num::NonZeroU32 {
    fn get(&self) -> Option<u64> {
        Some(u64::from(u32::from(*self)))
    }
    fn of(n: u64) -> Option<Self> {
        u32::try_from(n).ok().and_then(Self::new)
    }
}

impl PageSize for std::num::NonZeroU64 {
    fn get(&self) -> Option<u64> {
        Some(u64::from(*self))
    }
    fn of(n: u64) -> Option<Self> {
        Self::new(n)
    }
}

impl<T: PageSize> PageSize for Option<T> {
    fn get(&self) -> Option<u64> {
        self.as_ref().and_then(T::get)
    }
    fn of(n: u64) -> Option<Self> {
        T::of(n).map(Some)
    }
}

/// The page size a generated `.stream()` asks for: the caller's, or `default` when the
/// caller set none. A value the caller set that failed to convert is left as the error it
/// is, for `send` to report.
#[doc(hidden)]
pub fn page_size<T: PageSize>(field: &mut std::result::Result<T, String>, default: u64) -> u64 {
    let unset = match field {
        Ok(value) => value.get().is_none(),
        // The generator's text for a value never set (xtask/src/required.rs).
        Err(why) => why.contains(" is required: call "),
    };
    if unset && let Some(value) = T::of(default) {
        *field = Ok(value);
        return default;
    }
    match field {
        Ok(value) => value.get().unwrap_or(default),
        Err(_) => default,
    }
}

/// A count a server sends beside a page, whatever integer type progenitor chose.
#[doc(hidden)]
pub trait Count {
    /// The count, if there is one that fits.
    fn count(&self) -> Option<i64>;
}

impl Count for i32 {
    fn count(&self) -> Option<i64> {
        Some(i64::from(*self))
    }
}

impl Count for i64 {
    fn count(&self) -> Option<i64> {
        Some(*self)
    }
}

impl<T: Count> Count for Option<T> {
    fn count(&self) -> Option<i64> {
        self.as_ref().and_then(T::count)
    }
}

/// Streams every item of every page, fetching a page only when the one before is used up.
///
/// `fetch` gets the position of the page to load, starting at `first`. The stream ends
/// after a page without a next position, and after an empty page (a server that keeps
/// saying "more" while sending nothing must not loop forever). It stops at the first error.
///
/// A server that does not paginate as it says ends the stream with [`Error::Pagination`],
/// before the items of the page that shows it are yielded:
/// - a page whose next position is its own;
/// - a page with the same items as the one before, or as an earlier one (a server that
///   ignores the position, or cycles through a few pages);
/// - a next page although the server's own total says this page is the last
///   ([`Page::pages_left`]);
/// - a next page after [`MAX_PAGES`] pages.
///
/// Pages are compared by a hash of their item count and their first and last items' JSON,
/// so the stream holds one page of items and a few numbers, however long it runs.
///
/// The stream is boxed, so it is `Unpin`: `try_next()` reads it as it is, without `pin!`.
///
/// ```
/// use apikeys_common::{Page, paginate};
/// use futures::TryStreamExt;
///
/// # async fn demo() -> apikeys_common::Result<()> {
/// let pages = [vec!["a", "b"], vec!["c"]];
/// let items: Vec<&str> = paginate(0u32, |page| {
///     let items = pages[page as usize].clone();
///     async move { Ok(Page::numbered(items, page, page == 0)) }
/// })
/// .try_collect()
/// .await?;
/// assert_eq!(items, ["a", "b", "c"]);
/// # Ok(())
/// # }
/// ```
pub fn paginate<T, C, F, Fut>(first: C, fetch: F) -> impl Stream<Item = Result<T>> + Unpin
where
    T: Serialize,
    C: Clone + PartialEq + std::fmt::Debug,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>>>,
{
    paginate_at_most(MAX_PAGES, first, fetch)
}

/// [`paginate`] with another cap than [`MAX_PAGES`], for tests.
pub(crate) fn paginate_at_most<T, C, F, Fut>(
    max_pages: u64,
    first: C,
    fetch: F,
) -> impl Stream<Item = Result<T>> + Unpin
where
    T: Serialize,
    C: Clone + PartialEq + std::fmt::Debug,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>>>,
{
    let progress = Progress::new(max_pages);
    // Pinned in a box (not `BoxStream`: no `Send` asked of `fetch`) so that callers need
    // no `pin!` before `try_next()`.
    Box::pin(
        stream::try_unfold(
            (Some(first), fetch, progress),
            |(position, mut fetch, mut progress)| async move {
                let Some(position) = position else {
                    return Ok::<_, Error>(None);
                };
                let page = fetch(position.clone()).await?;
                if page.next.as_ref() == Some(&position) {
                    return Err(Error::Pagination(format!(
                        "the page at {position:?} points to itself"
                    )));
                }
                let next = if page.items.is_empty() {
                    None
                } else {
                    progress.check(
                        fingerprint(&page.items),
                        page.next.is_some(),
                        page.pages_left,
                    )?;
                    page.next
                };
                let items = stream::iter(page.items.into_iter().map(Ok));
                Ok(Some((items, (next, fetch, progress))))
            },
        )
        .try_flatten(),
    )
}

/// How many of the latest pages' fingerprints a stream keeps: a cycle through that many
/// pages or fewer is caught before any item is yielded twice.
const RECENT_PAGES: usize = 16;

/// What a stream remembers of the pages it has fetched: how many, and a few fingerprints.
#[derive(Debug)]
pub(crate) struct Progress {
    max_pages: u64,
    fetched: u64,
    recent: VecDeque<u64>,
    /// Brent's cycle detection for longer cycles: the fingerprint of a page fetched at a
    /// power of two, so a cycle through any number of pages is caught within about twice
    /// as many.
    checkpoint: Option<u64>,
    next_checkpoint: u64,
}

impl Progress {
    pub(crate) fn new(max_pages: u64) -> Self {
        Progress {
            max_pages,
            fetched: 0,
            recent: VecDeque::with_capacity(RECENT_PAGES),
            checkpoint: None,
            next_checkpoint: 1,
        }
    }

    /// Takes in a page that has items: its fingerprint, whether it offers a next page and
    /// how many pages the server says follow.
    pub(crate) fn check(
        &mut self,
        fingerprint: u64,
        has_next: bool,
        pages_left: Option<u64>,
    ) -> Result<()> {
        self.fetched = self.fetched.saturating_add(1);
        let page = self.fetched;
        if self.recent.back() == Some(&fingerprint) {
            return Err(Error::Pagination(format!(
                "page {page} repeats the page before it"
            )));
        }
        if self.recent.contains(&fingerprint) || self.checkpoint == Some(fingerprint) {
            return Err(Error::Pagination(format!(
                "page {page} repeats an earlier page"
            )));
        }
        if self.recent.len() == RECENT_PAGES {
            self.recent.pop_front();
        }
        self.recent.push_back(fingerprint);
        if page >= self.next_checkpoint {
            self.checkpoint = Some(fingerprint);
            self.next_checkpoint = self.next_checkpoint.saturating_mul(2);
        }
        if has_next && pages_left == Some(0) {
            return Err(Error::Pagination(format!(
                "page {page} offers a next page, but the server's own total says it is the last"
            )));
        }
        if has_next && page >= self.max_pages {
            return Err(Error::Pagination(format!(
                "page {page} still offers a next page; a stream stops at {} pages",
                self.max_pages
            )));
        }
        Ok(())
    }
}

/// A hash of the page's item count and its first and last items' JSON: pages with the same
/// items have the same fingerprint. Two pages of a server that paginates never share their
/// first and last items, so hashing those two is enough, and costs the same for a page of
/// ten keys as for a page of a thousand.
fn fingerprint<T: Serialize>(items: &[T]) -> u64 {
    struct HashWriter(DefaultHasher);
    impl std::io::Write for HashWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.write(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = HashWriter(DefaultHasher::new());
    writer.0.write_usize(items.len());
    for item in items.first().into_iter().chain(items.last()) {
        // An item that does not serialize adds nothing; the count above still does.
        let _ = serde_json::to_writer(&mut writer, item);
        writer.0.write_u8(0);
    }
    writer.0.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures::StreamExt;
    use reqwest::StatusCode;

    use super::*;
    use crate::ApiError;

    #[tokio::test]
    async fn numbered_pages_are_fetched_lazily_in_order() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let stream = paginate(0u32, move |page| {
            log.lock().unwrap().push(page);
            async move {
                Ok(Page::numbered(
                    vec![page * 10, page * 10 + 1],
                    page,
                    page < 2,
                ))
            }
        });
        futures::pin_mut!(stream);
        assert_eq!(stream.next().await.unwrap().unwrap(), 0);
        assert_eq!(
            *asked.lock().unwrap(),
            [0],
            "only the first page is fetched up front"
        );
        let rest: Vec<u32> = stream.try_collect().await.unwrap();
        assert_eq!(rest, [1, 10, 11, 20, 21]);
        assert_eq!(*asked.lock().unwrap(), [0, 1, 2]);
    }

    #[test]
    fn a_total_item_count_bounds_the_pages_only_when_it_can_be_one() {
        let page = |n: usize, at: u32, total: Option<i64>| {
            Page::numbered(vec![0u8; n], at, true).with_total_items(at, 500, total)
        };
        // 1,200 keys: two full pages, then 200.
        assert_eq!(page(500, 0, Some(1200)).pages_left, Some(2));
        assert_eq!(page(500, 1, Some(1200)).pages_left, Some(1));
        // A count equal to or below the page, negative or absent: no bound.
        for total in [Some(500), Some(3), Some(-1), None] {
            assert_eq!(page(500, 0, total).pages_left, None, "{total:?}");
        }
        // A total already reached by the pages before: nothing follows.
        assert_eq!(page(500, 4, Some(501)).pages_left, Some(0));
        assert!(page(500, u32::MAX, Some(i64::MAX)).pages_left.is_some());
    }

    #[test]
    fn the_cursor_is_read_from_absolute_and_relative_links_and_decoded_once() {
        let next = |link| cursor_from_link(Some(link), "cursor");
        assert_eq!(
            next("https://sensorbucket.nl/api/api-keys?cursor=omVM_-AA&limit=2&tenant_id=19")
                .unwrap()
                .as_deref(),
            Some("omVM_-AA")
        );
        assert_eq!(
            next("/api-keys?limit=2&cursor=a%2Bb%3D%2Fc+d#x")
                .unwrap()
                .as_deref(),
            Some("a+b=/c d")
        );
        assert_eq!(next("").unwrap(), None);
        assert_eq!(cursor_from_link(None, "cursor").unwrap(), None);
    }

    #[test]
    fn a_next_link_without_a_cursor_is_an_error_not_a_silent_end() {
        let err = cursor_from_link(
            Some("https://sensorbucket.nl/api/api-keys?limit=2&token=tb_secret"),
            "cursor",
        )
        .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        assert!(!format!("{err} {err:?}").contains("tb_secret"), "{err:?}");
    }

    #[test]
    fn the_callers_page_size_is_kept_and_an_unset_one_defaulted() {
        use std::num::{NonZeroU32, NonZeroU64};
        let mut unset: std::result::Result<NonZeroU32, String> =
            Err("list_keys: `page_size` is required: call `.page_size(..)` first".into());
        assert_eq!(page_size(&mut unset, 1000), 1000);
        assert_eq!(unset, Ok(NonZeroU32::new(1000).unwrap()));
        let mut set: std::result::Result<Option<NonZeroU64>, String> = Ok(NonZeroU64::new(7));
        assert_eq!(page_size(&mut set, 500), 7);
        let mut none: std::result::Result<Option<i64>, String> = Ok(None);
        assert_eq!(page_size(&mut none, 1000), 1000);
        assert_eq!(none, Ok(Some(1000)));
        let mut bad: std::result::Result<NonZeroU32, String> =
            Err("conversion to `NonZeroU32` for page_size failed".into());
        page_size(&mut bad, 1000);
        assert!(
            bad.is_err(),
            "a failed conversion is reported by send, not replaced"
        );
    }

    #[tokio::test]
    async fn cursors_are_passed_back_exactly() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let items: Vec<u8> = paginate(String::new(), move |cursor: String| {
            log.lock().unwrap().push(cursor.clone());
            let next = match cursor.as_str() {
                "" => Some("b2Zmc2V0PTI=%2F+".to_string()),
                "b2Zmc2V0PTI=%2F+" => Some(String::new()),
                _ => None,
            };
            let item = cursor.len() as u8;
            async move { Ok(Page::cursor(vec![item], next)) }
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, [0, 16]);
        assert_eq!(*asked.lock().unwrap(), ["", "b2Zmc2V0PTI=%2F+"]);
    }

    #[tokio::test]
    async fn offsets_advance_by_what_was_received_until_a_short_page() {
        let items: Vec<u64> = paginate(0u64, |offset| async move {
            let items: Vec<u64> = (offset..(offset + 3).min(7)).collect();
            Ok(Page::offset(items, offset, 3))
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, [0, 1, 2, 3, 4, 5, 6]);
    }

    #[tokio::test]
    async fn an_empty_page_ends_the_stream_even_if_the_server_says_more() {
        let mut calls = 0;
        let items: Vec<u8> = paginate(0u32, |page| {
            calls += 1;
            async move { Ok(Page::numbered(Vec::<u8>::new(), page, true)) }
        })
        .try_collect()
        .await
        .unwrap();
        assert!(items.is_empty());
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_cursor_that_points_to_itself_is_an_error_not_a_loop() {
        let results: Vec<Result<u8>> = paginate("c1".to_string(), |cursor| async move {
            Ok(Page::cursor(vec![1], Some(cursor)))
        })
        .collect()
        .await;
        assert_eq!(results.len(), 1);
        assert!(
            matches!(results[0], Err(Error::Pagination(_))),
            "{results:?}"
        );
    }

    #[tokio::test]
    async fn an_error_is_yielded_once_and_ends_the_stream() {
        let results: Vec<Result<u32>> = paginate(0u32, |page| async move {
            if page == 0 {
                Ok(Page::numbered(vec![1], 0, true))
            } else {
                Err(Error::Api(ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: None,
                    message: None,
                    retry_after: None,
                }))
            }
        })
        .collect()
        .await;
        assert_eq!(results.len(), 2);
        assert!(matches!(results[0], Ok(1)));
        assert!(
            results[1]
                .as_ref()
                .is_err_and(|e| e.status() == Some(StatusCode::INTERNAL_SERVER_ERROR))
        );
    }

    #[tokio::test]
    async fn the_same_full_page_forever_ends_at_the_second_page() {
        let mut calls = 0;
        let results: Vec<Result<u32>> = paginate(0u32, |page| {
            calls += 1;
            async move { Ok(Page::numbered(vec![1, 2, 3], page, true)) }
        })
        .collect()
        .await;
        assert_eq!(calls, 2);
        assert_eq!(results.len(), 4, "one page of items, then the error");
        assert!(
            matches!(results[3], Err(Error::Pagination(_))),
            "{results:?}"
        );
    }

    #[tokio::test]
    async fn a_cycle_of_cursors_is_caught() {
        let mut calls = 0;
        let results: Vec<Result<String>> = paginate("a".to_string(), |cursor| {
            calls += 1;
            let next = match cursor.as_str() {
                "a" => "b",
                "b" => "c",
                _ => "a",
            };
            async move { Ok(Page::cursor(vec![cursor], Some(next.to_string()))) }
        })
        .collect()
        .await;
        assert_eq!(calls, 4);
        assert!(matches!(results.last(), Some(Err(Error::Pagination(_)))));
        let items: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(items, ["a", "b", "c"], "nothing is yielded twice");
    }

    #[tokio::test]
    async fn a_next_page_past_the_servers_own_total_is_an_error() {
        let mut calls = 0;
        let results: Vec<Result<u32>> = paginate(0u32, |page| {
            calls += 1;
            // Says three pages in all, and `hasNext` forever.
            async move { Ok(Page::numbered(vec![page], page, true).with_total_pages(page, 3)) }
        })
        .collect()
        .await;
        assert_eq!(calls, 3);
        assert!(matches!(results.last(), Some(Err(Error::Pagination(_)))));
        // An honest last page is not an error.
        let items: Vec<u32> = paginate(0u32, |page| async move {
            Ok(Page::numbered(vec![page], page, page < 2).with_total_pages(page, 3))
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, [0, 1, 2]);
    }

    #[tokio::test]
    async fn fresh_pages_forever_end_at_the_cap() {
        let mut calls = 0u64;
        let results: Vec<Result<u64>> = paginate(0u64, |offset| {
            calls += 1;
            async move { Ok(Page::offset(vec![offset], offset, 1)) }
        })
        .collect()
        .await;
        assert_eq!(calls, MAX_PAGES);
        // The items of every page but the one that still offers more, then the error.
        assert_eq!(results.len() as u64, MAX_PAGES);
        assert!(matches!(results.last(), Some(Err(Error::Pagination(_)))));
    }

    /// An item that counts how many of its kind are alive, to bound the stream's memory.
    struct Tracked {
        id: u64,
        live: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Tracked {
        fn new(id: u64, live: &Arc<std::sync::atomic::AtomicUsize>) -> Self {
            live.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Tracked {
                id,
                live: live.clone(),
            }
        }
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Serialize for Tracked {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            self.id.serialize(s)
        }
    }

    /// What a model server does when asked for a page.
    #[derive(Debug, Clone)]
    enum Answer {
        /// `n` items never sent before.
        Fresh(usize),
        /// The items of the page before, again.
        RepeatLast,
        /// The items of the first page, again (a server ignoring the position).
        RepeatFirst,
        /// The page before, one item shorter (a list shrinking under the stream).
        Shrink,
        /// No items.
        Empty,
    }

    fn answer() -> impl proptest::strategy::Strategy<Value = Answer> {
        use proptest::prelude::*;
        prop_oneof![
            (1usize..8).prop_map(Answer::Fresh),
            Just(Answer::RepeatLast),
            Just(Answer::RepeatFirst),
            Just(Answer::Shrink),
            Just(Answer::Empty),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// A server that repeats, shrinks, grows or lies about its totals, following a
        /// script it cycles through: the stream always ends, after at most the cap in
        /// pages, with nothing or `Error::Pagination`, holding at most one page of items.
        #[test]
        fn every_stream_ends_whatever_the_server_says(
            script in proptest::collection::vec(
                (answer(), proptest::prelude::any::<bool>(), proptest::option::of(0u64..4)),
                1..12,
            ),
            cap in 1u64..40,
        ) {
            let live = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let model = Arc::new(Mutex::new((0u64, 0u64, Vec::<u64>::new(), Vec::<u64>::new())));
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let (fetched, outcome) = runtime.block_on(async {
                let stream = paginate_at_most(cap, 0u32, |page| {
                    let mut guard = model.lock().unwrap();
                    let (requests, fresh, first, last) = &mut *guard;
                    let (answer, has_next, pages_left) =
                        script[(*requests as usize) % script.len()].clone();
                    *requests += 1;
                    let ids: Vec<u64> = match answer {
                        Answer::Fresh(n) => (0..n as u64).map(|i| *fresh + i).collect(),
                        Answer::RepeatLast => last.clone(),
                        Answer::RepeatFirst => first.clone(),
                        Answer::Shrink => last.iter().skip(1).copied().collect(),
                        Answer::Empty => Vec::new(),
                    };
                    *fresh += 8;
                    if first.is_empty() {
                        first.clone_from(&ids);
                    }
                    last.clone_from(&ids);
                    let items: Vec<Tracked> = ids.iter().map(|id| Tracked::new(*id, &live)).collect();
                    async move {
                        Ok(Page::numbered(items, page, has_next).with_pages_left(pages_left))
                    }
                });
                futures::pin_mut!(stream);
                let mut outcome = Ok(());
                while let Some(item) = stream.next().await {
                    // The page being yielded, and nothing else, is alive.
                    assert!(live.load(std::sync::atomic::Ordering::SeqCst) <= 8);
                    match item {
                        Ok(item) => drop(item),
                        Err(e) => outcome = Err(e),
                    }
                }
                (model.lock().unwrap().0, outcome)
            });
            proptest::prop_assert!(fetched <= cap, "{} pages fetched, cap {}", fetched, cap);
            proptest::prop_assert!(
                matches!(outcome, Ok(()) | Err(Error::Pagination(_))),
                "{:?}", outcome
            );
            proptest::prop_assert_eq!(live.load(std::sync::atomic::Ordering::SeqCst), 0);
        }

        /// The pure check alone: a fingerprint sequence of any shape ends within the cap.
        #[test]
        fn progress_refuses_to_go_past_the_cap(
            fingerprints in proptest::collection::vec(0u64..6, 1..200),
            cap in 1u64..100,
        ) {
            let mut progress = Progress::new(cap);
            let mut accepted = 0u64;
            for fingerprint in fingerprints.iter().cycle().take(1_000) {
                if progress.check(*fingerprint, true, None).is_err() {
                    break;
                }
                accepted += 1;
            }
            // At most six distinct fingerprints: the seventh page repeats one.
            proptest::prop_assert!(accepted <= cap.min(6));
        }

        /// A cycle longer than the recent pages kept is still caught, within a few rounds.
        #[test]
        fn long_cycles_are_caught(start in 0usize..100, length in 1u64..500) {
            let mut progress = Progress::new(u64::MAX);
            let distinct = (0..start as u64).map(|i| i + 1_000);
            let cycle = (0..length).cycle().take(10_000);
            let accepted = distinct
                .chain(cycle)
                .take_while(|fingerprint| progress.check(*fingerprint, true, None).is_ok())
                .count() as u64;
            proptest::prop_assert!(accepted < 4 * (start as u64 + length), "{}", accepted);
        }
    }
}
