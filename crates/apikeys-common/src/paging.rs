//! Pagination as one lazy `Stream` of items, whatever the vendor's style: numbered pages,
//! opaque cursors or offsets. Each vendor says how to fetch one page and what comes next;
//! the filters and sort order it captured go out again on every page.

use std::future::Future;

use futures::stream::{self, Stream, TryStreamExt};

use crate::{Error, Result};

/// One page of items, and where the next page starts (`None` on the last page).
///
/// `C` is the vendor's position: a page number, a cursor string, an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Where the next page starts; `None` when this is the last.
    pub next: Option<C>,
}

impl<T> Page<T, u32> {
    /// A page of a numbered-pages API (`page=0,1,2,…` while the server says there is more).
    pub fn numbered(items: Vec<T>, page: u32, has_next: bool) -> Self {
        let next = if has_next { page.checked_add(1) } else { None };
        Page { items, next }
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
        Page { items, next }
    }
}

impl<T> Page<T, String> {
    /// A page of a cursor API. The cursor is opaque: sent back exactly as received. An
    /// empty cursor means there is no next page.
    pub fn cursor(items: Vec<T>, next: Option<String>) -> Self {
        Page {
            items,
            next: next.filter(|c| !c.is_empty()),
        }
    }
}

/// Streams every item of every page, fetching a page only when the one before is used up.
///
/// `fetch` gets the position of the page to load, starting at `first`. The stream ends
/// after a page without a next position, and after an empty page (a server that keeps
/// saying "more" while sending nothing must not loop forever). A page whose next position
/// is its own is an [`Error::Pagination`]. It stops at the first error.
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
pub fn paginate<T, C, F, Fut>(first: C, fetch: F) -> impl Stream<Item = Result<T>>
where
    C: Clone + PartialEq + std::fmt::Debug,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>>>,
{
    stream::try_unfold((Some(first), fetch), |(position, mut fetch)| async move {
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
            page.next
        };
        let items = stream::iter(page.items.into_iter().map(Ok));
        Ok(Some((items, (next, fetch))))
    })
    .try_flatten()
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
            async move { Ok(Page::cursor(vec![1], next)) }
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, [1, 1]);
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
}
