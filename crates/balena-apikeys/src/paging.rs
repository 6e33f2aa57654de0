//! Every key of a listing as one stream, over `$top`/`$skip` pages (balena has no cursor,
//! next link or total in a listing).

use apikeys_common::{Result, odata};
use futures::{Stream, TryStreamExt, stream};

use crate::api_keys::{ListRequest, fetch};
use crate::odata::ApiKeyField;
use crate::types::ApiKey;

/// Page size when the options set no `$top`.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

impl<'a> ListRequest<'a> {
    /// Streams every key, one `$top`/`$skip` page at a time as the stream is read, with the
    /// method's filter and your options on every page.
    ///
    /// The look-ups (whoami, device or application actor) are done once, before the first
    /// page. `$top` in your options sets the page size (default [`DEFAULT_PAGE_SIZE`]); the
    /// stream starts at the first key whatever `$skip` says. `id asc` is added to `$orderby` (unless it names `id`
    /// already) so that pages neither repeat nor miss a key. The stream ends after a short
    /// page. balena's list answer carries no total (counting is a request of its own,
    /// `count_api_keys`), so a server that answers every `$skip` with the same page is
    /// caught by the repeat, and one that pages on past
    /// [`MAX_PAGES`](apikeys_common::MAX_PAGES) by the cap: both end the stream with
    /// [`Error::Pagination`](apikeys_common::Error::Pagination).
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// use balena_apikeys::odata::ODataOptions;
    /// use futures::TryStreamExt;
    ///
    /// let keys = client
    ///     .api_key()
    ///     .get_all_named_user_api_keys()
    ///     .options(ODataOptions::new().top(50))
    ///     .stream();
    /// futures::pin_mut!(keys);
    /// while let Some(key) = keys.try_next().await? {
    ///     println!("{:?} {:?}", key.id, key.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<ApiKey>> + 'a {
        let ListRequest {
            client,
            scope,
            options,
        } = self;
        stream::once(async move {
            let options = scope.defaults(client).await?.merged_with(options);
            let fetch = move |page| async move { fetch(client, &page).await };
            let pages = odata::paginate(options, ApiKeyField::Id, DEFAULT_PAGE_SIZE, fetch);
            Ok::<_, apikeys_common::Error>(pages)
        })
        .try_flatten()
    }
}
