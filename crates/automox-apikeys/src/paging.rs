//! Both key lists as one stream each, over Automox's numbered pages: `page` from 0 and
//! `limit` items a page, the last page being the first one shorter than `limit`.

use apikeys_common::{Page, Result, paginate};
use futures::Stream;

use crate::builder::{GetOrganizationApiKeys, GetUserApiKeys};
use crate::types::ApiKey;

/// The page size every stream asks for: the largest the server allows, and its default.
///
/// The stream must know the page size to recognise the last page, and the generated
/// builder does not expose the one a caller set, so the stream always sets its own.
/// Whether `size` in the answer counts one page or all keys is not documented: the last
/// page is the first short one either way, and `size` is used only as a check.
pub const STREAM_PAGE_LIMIT: u64 = 500;

fn page_of(results: Vec<ApiKey>, page: u32, size: Option<i64>) -> Page<ApiKey, u32> {
    let on_page = u64::try_from(results.len()).unwrap_or(u64::MAX);
    let full = on_page >= STREAM_PAGE_LIMIT;
    Page::numbered(results, page, full).with_pages_left(pages_left(page, on_page, size))
}

/// How many pages follow by the server's `size`, when `size` can only be a count of every
/// key: larger than this page. (Equal to it, it may count this page alone; smaller, it is
/// neither, and says nothing.)
fn pages_left(page: u32, on_page: u64, size: Option<i64>) -> Option<u64> {
    let total = u64::try_from(size?).ok().filter(|total| *total > on_page)?;
    let before = u64::from(page).saturating_mul(STREAM_PAGE_LIMIT);
    let left = total.saturating_sub(before).saturating_sub(on_page);
    Some(left.div_ceil(STREAM_PAGE_LIMIT))
}

impl<'a> GetUserApiKeys<'a> {
    /// Streams every key of the user in the organization, page after page.
    ///
    /// Set `user_id` and `o` as for a single page; they are sent with every page. `page`
    /// and `limit` are replaced: pages are asked for from 0 with `limit=500`
    /// ([`STREAM_PAGE_LIMIT`](crate::STREAM_PAGE_LIMIT)), one at a time as the stream is
    /// read, until a page holds fewer than 500 keys. A server that repeats a page, offers
    /// more keys than its own `size`, or pages on past
    /// [`MAX_PAGES`](apikeys_common::MAX_PAGES) ends the stream with
    /// [`Error::Pagination`](apikeys_common::Error::Pagination).
    ///
    /// ```no_run
    /// # async fn demo(client: automox_apikeys::Client) -> automox_apikeys::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let keys: Vec<_> = client
    ///     .org(1234)
    ///     .get_user_api_keys()
    ///     .user_id(98765)
    ///     .stream()
    ///     .try_collect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<ApiKey>> + 'a {
        paginate(0u32, move |page| {
            let request = self.clone().page(page).limit(STREAM_PAGE_LIMIT);
            async move {
                let body = request.send().await?;
                Ok(page_of(body.results, page, body.size))
            }
        })
    }
}

impl<'a> GetOrganizationApiKeys<'a> {
    /// Streams every key of every user of the organization, page after page.
    ///
    /// Set `id` (the organization) as for a single page; it is kept on every page. `page`
    /// and `limit` are replaced, as for [`GetUserApiKeys::stream`].
    ///
    /// ```no_run
    /// # async fn demo(client: automox_apikeys::Client) -> automox_apikeys::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let keys = client.org(1234).get_organization_api_keys().stream();
    /// futures::pin_mut!(keys);
    /// while let Some(key) = keys.try_next().await? {
    ///     println!("{:?} enabled={:?}", key.name, key.is_enabled);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<ApiKey>> + 'a {
        paginate(0u32, move |page| {
            let request = self.clone().page(page).limit(STREAM_PAGE_LIMIT);
            async move {
                let body = request.send().await?;
                Ok(page_of(body.results, page, body.size))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_bounds_the_pages_only_when_it_can_be_a_total() {
        // 1,200 keys: two full pages, then 200.
        assert_eq!(pages_left(0, 500, Some(1200)), Some(2));
        assert_eq!(pages_left(1, 500, Some(1200)), Some(1));
        // A full page whose `size` is the page's own count, or less: no bound.
        assert_eq!(pages_left(0, 500, Some(500)), None);
        assert_eq!(pages_left(0, 500, Some(3)), None);
        assert_eq!(pages_left(0, 500, Some(-1)), None);
        assert_eq!(pages_left(0, 500, None), None);
        // A total already reached by the pages before: nothing follows.
        assert_eq!(pages_left(4, 500, Some(501)), Some(0));
        assert!(pages_left(u32::MAX, 500, Some(i64::MAX)).is_some());
    }
}
