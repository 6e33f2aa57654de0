//! Every key as one stream, over SensorBucket's opaque cursors
//! (`internal/pagination/pagination.go` in `sensorbucket/SensorBucket`).

use apikeys_common::{Error, Page, Result, paginate};
use futures::Stream;

use crate::builder::ListApiKeys;
use crate::types::{ApiKey, PaginatedResponseLinks};

impl<'a> ListApiKeys<'a> {
    /// Streams every key on every page, following the server's cursor until `links.next`
    /// is empty. A cursor that points to its own page, a page that repeats an earlier one,
    /// or paging on past [`MAX_PAGES`](apikeys_common::MAX_PAGES) ends the stream with
    /// [`Error::Pagination`](apikeys_common::Error::Pagination) (the server's `total_count`
    /// is always 0, so it bounds nothing).
    ///
    /// Set `tenant_id` and `limit` as for a single page: both are sent with every page. A
    /// `cursor` set here is where the stream starts. Pages are fetched one at a time, as the
    /// stream is read.
    ///
    /// ```no_run
    /// # async fn demo(client: sensorbucket_apikeys::Client) -> sensorbucket_apikeys::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let keys = client.list_api_keys().tenant_id(19).limit(100).stream();
    /// futures::pin_mut!(keys);
    /// while let Some(key) = keys.try_next().await? {
    ///     println!("{} {} expires {:?}", key.id, key.name, key.expiration_date);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<ApiKey>> + 'a {
        // The empty cursor stands for "the first page": the server never sends one.
        paginate(String::new(), move |cursor: String| {
            let request = if cursor.is_empty() {
                self.clone()
            } else {
                self.clone().cursor(cursor)
            };
            async move {
                let body = request.send().await?;
                Ok(Page::cursor(body.data, next_cursor(&body.links)?))
            }
        })
    }
}

/// The `cursor` parameter of `links.next`, which is a URL built from the server's own
/// configuration (absolute in production, relative in tests): only its query is read, never
/// the URL followed. `None` when `next` is empty or absent.
fn next_cursor(links: &PaginatedResponseLinks) -> Result<Option<String>> {
    let Some(next) = links.next.as_deref().filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let query = next.split_once('?').map_or("", |(_, query)| query);
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "cursor")
        .map(|(_, cursor)| Some(cursor.into_owned()))
        .ok_or_else(|| Error::Decode {
            reason: "`links.next` names a next page but has no `cursor` parameter".into(),
            // The link's query is not shown: a server may have put anything there.
            excerpt: next
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .chars()
                .take(160)
                .collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(link: &str) -> Result<Option<String>> {
        next_cursor(&PaginatedResponseLinks {
            next: Some(link.into()),
            previous: Some(String::new()),
        })
    }

    #[test]
    fn the_cursor_is_read_from_absolute_and_relative_links_and_decoded_once() {
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
        assert_eq!(
            next_cursor(&PaginatedResponseLinks::default()).unwrap(),
            None
        );
    }

    #[test]
    fn a_next_link_without_a_cursor_is_an_error_not_a_silent_end() {
        let err = next("https://sensorbucket.nl/api/api-keys?limit=2&token=tb_secret").unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        assert!(!format!("{err} {err:?}").contains("tb_secret"), "{err:?}");
    }
}
