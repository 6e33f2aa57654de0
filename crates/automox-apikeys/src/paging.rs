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
/// Whether `size` in the answer counts one page or all keys is not documented, so
/// it is not used.
pub const STREAM_PAGE_LIMIT: u64 = 500;

fn page_of(results: Vec<ApiKey>, page: u32) -> Page<ApiKey, u32> {
    let full = u64::try_from(results.len()).is_ok_and(|n| n >= STREAM_PAGE_LIMIT);
    Page::numbered(results, page, full)
}

impl<'a> GetUserApiKeys<'a> {
    /// Streams every key of the user in the organization, page after page.
    ///
    /// Set `user_id` and `o` as for a single page; they are sent with every page. `page`
    /// and `limit` are replaced: pages are asked for from 0 with `limit=500`
    /// ([`STREAM_PAGE_LIMIT`](crate::STREAM_PAGE_LIMIT)), one at a time as the stream is
    /// read, until a page holds fewer than 500 keys.
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
            async move { Ok(page_of(request.send().await?.results, page)) }
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
            async move { Ok(page_of(request.send().await?.results, page)) }
        })
    }
}
