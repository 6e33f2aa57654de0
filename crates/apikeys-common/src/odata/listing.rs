//! A listing method with options of its own (a filter on an owner found by a look-up, a
//! default order) to which the caller adds theirs, sent once or streamed page by page.

use futures::future::BoxFuture;
use futures::{Stream, TryStreamExt, stream};
use serde::Serialize;

use super::{ODataOptions, paginate};
use crate::{Error, Result};

/// One listing method of a vendor's client `C`: the options it adds (after any look-ups
/// they need) and the request that fetches rows. [`ListRequest`] does the rest.
pub trait Listing<C>: Send + Sync {
    /// What the listing yields.
    type Row: Serialize + Send;
    /// A unique field of a row: pages are ordered by it so that they neither repeat nor
    /// miss a row.
    const ORDER_KEY: &'static str;
    /// The page size when the options set no `$top`.
    const PAGE_SIZE: u64;

    /// The method's own options, after the look-ups they need.
    fn defaults<'a>(&'a self, client: &'a C) -> BoxFuture<'a, Result<ODataOptions>>;

    /// One request with these options: its rows.
    fn fetch(client: &C, options: ODataOptions) -> BoxFuture<'_, Result<Vec<Self::Row>>>;
}

/// A listing method, ready to [`send`](ListRequest::send) or [`stream`](ListRequest::stream).
#[derive(Clone, Debug)]
#[must_use = "a listing does nothing until it is sent or streamed"]
pub struct ListRequest<'a, C, L> {
    client: &'a C,
    listing: L,
    options: ODataOptions,
}

impl<'a, C: Sync, L: Listing<C> + 'a> ListRequest<'a, C, L> {
    /// The listing `listing` of `client`, with no options of the caller's yet.
    pub fn new(client: &'a C, listing: L) -> Self {
        ListRequest {
            client,
            listing,
            options: ODataOptions::new(),
        }
    }

    /// Your OData options, merged with the method's ([`ODataOptions::merged_with`]): your
    /// `$orderby`, `$top` and `$skip` replace the method's, `$select` and `$expand` are
    /// added, and your filter is combined with the method's using `and`.
    pub fn options(mut self, options: ODataOptions) -> Self {
        self.options = options;
        self
    }

    /// Does the look-ups, then fetches the rows in one request.
    pub async fn send(self) -> Result<Vec<L::Row>> {
        let options = self.listing.defaults(self.client).await?;
        L::fetch(self.client, options.merged_with(self.options)).await
    }

    /// Streams every row, one `$top`/`$skip` page at a time as the stream is read, with the
    /// method's options and yours on every page (see [`paginate`]).
    ///
    /// The look-ups are done once, before the first page. `$top` in your options sets the
    /// page size (default [`Listing::PAGE_SIZE`]); the stream starts at the first row
    /// whatever `$skip` says. `<ORDER_KEY> asc` is added to `$orderby` (unless it names that
    /// field already) so that pages neither repeat nor miss a row. The stream ends after a
    /// short page; a server that answers every `$skip` with the same page is caught by the
    /// repeat, and one that pages on past [`MAX_PAGES`](crate::MAX_PAGES) by the cap: both
    /// end the stream with [`Error::Pagination`]. The stream is boxed (`Unpin`), so
    /// `try_next()` reads it without `pin!`.
    pub fn stream(self) -> impl Stream<Item = Result<L::Row>> + Unpin + 'a {
        let ListRequest {
            client,
            listing,
            options,
        } = self;
        Box::pin(
            stream::once(async move {
                let options = listing.defaults(client).await?.merged_with(options);
                let fetch = move |page| L::fetch(client, page);
                Ok::<_, Error>(paginate(options, L::ORDER_KEY, L::PAGE_SIZE, fetch))
            })
            .try_flatten(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::{FutureExt, TryStreamExt};

    use super::*;
    use crate::odata::{Filter, Order};

    /// Rows 0..total; every request's rendered options are logged.
    struct Rows {
        total: u64,
        log: Mutex<Vec<String>>,
    }

    struct Mine;

    impl Listing<Rows> for Mine {
        type Row = u64;
        const ORDER_KEY: &'static str = "id";
        const PAGE_SIZE: u64 = 2;

        fn defaults<'a>(&'a self, _: &'a Rows) -> BoxFuture<'a, Result<ODataOptions>> {
            let mine = ODataOptions::new()
                .filter(Filter::eq("owner", 7))
                .orderby("name", Order::Asc);
            async move { Ok(mine) }.boxed()
        }

        fn fetch(rows: &Rows, options: ODataOptions) -> BoxFuture<'_, Result<Vec<u64>>> {
            let r = options.rendered();
            rows.log.lock().unwrap().push(format!("{r:?}"));
            let skip = r.skip.unwrap_or(0);
            let end = rows.total.min(skip + r.top.unwrap_or(rows.total));
            async move { Ok((skip..end).collect()) }.boxed()
        }
    }

    #[tokio::test]
    async fn send_merges_the_callers_options_and_stream_pages_in_order() {
        let rows = Rows {
            total: 5,
            log: Mutex::default(),
        };
        let caller = ODataOptions::new().filter(Filter::eq("name", "ci")).top(3);
        let sent = ListRequest::new(&rows, Mine)
            .options(caller.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(sent, [0, 1, 2]);
        let streamed: Vec<u64> = ListRequest::new(&rows, Mine)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed, [0, 1, 2, 3, 4]);
        let log = rows.log.lock().unwrap();
        assert_eq!(log.len(), 4, "one send, then pages of 2: {log:?}");
        assert!(
            log[0].contains(r#"filter: Some("owner eq 7 and name eq 'ci'")"#)
                && log[0].contains(r#"orderby: Some("name asc")"#)
                && log[0].contains("top: Some(3)"),
            "{}",
            log[0]
        );
        assert!(
            log[3].contains(r#"orderby: Some("name asc,id asc")"#)
                && log[3].contains("top: Some(2)")
                && log[3].contains("skip: Some(4)"),
            "{}",
            log[3]
        );
    }
}
