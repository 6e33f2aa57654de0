//! All of a user's keys as one stream, over ThingsBoard's numbered pages (from 0, until
//! `hasNext` is false).

use apikeys_common::{Page, Result, paginate};
use futures::Stream;

use crate::builder::GetUserApiKeys;
use crate::types::ApiKeyInfo;

impl<'a> GetUserApiKeys<'a> {
    /// Streams every key on every page, from page 0 until the server says `hasNext: false`.
    /// A server that offers a page past its own `totalPages`, repeats a page, or pages on
    /// past [`MAX_PAGES`](apikeys_common::MAX_PAGES) ends the stream with
    /// [`Error::Pagination`](apikeys_common::Error::Pagination).
    ///
    /// Set `user_id` and `page_size` (and any of `text_search`, `sort_property`,
    /// `sort_order`, which are sent with every page) as for a single page; `page` is
    /// ignored. Pages are fetched one at a time, as the stream is read.
    ///
    /// ```no_run
    /// # async fn demo(client: thingsboard_apikeys::Client) -> thingsboard_apikeys::Result<()> {
    /// use futures::TryStreamExt;
    /// use thingsboard_apikeys::types::GetUserApiKeysSortOrder;
    ///
    /// let keys = client
    ///     .get_user_api_keys()
    ///     .user_id("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10")
    ///     .page_size(100)
    ///     .sort_order(GetUserApiKeysSortOrder::Desc)
    ///     .stream();
    /// futures::pin_mut!(keys);
    /// while let Some(key) = keys.try_next().await? {
    ///     println!("{} enabled={}", key.description, key.enabled);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<ApiKeyInfo>> + 'a {
        paginate(0u32, move |page| {
            let request = self.clone().page(page);
            async move {
                let body = request.send().await?;
                Ok(Page::numbered(body.data, page, body.has_next)
                    .with_total_pages(page, i64::from(body.total_pages)))
            }
        })
    }
}
