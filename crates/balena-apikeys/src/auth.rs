//! balena sends credentials as `Authorization: Bearer <token>` (as
//! `balena-io-modules/balena-request` does; the fragment says so) and has one wire rule the
//! generator does not express: OData's quoting of a string key in a path
//! (`balena-io-modules/odata-parser`, `odata-parser.pegjs`).

/// Runs on every request (the generator wires it into `impl Vendor for Client`).
///
/// It doubles a `'` inside the quoted device uuid of `/v7/device(uuid='…')`, so that an id
/// cannot end the quotes (OData's escaping). The query needs nothing here: the fragment's
/// `x-apikeys-query: odata-wire` has the generated code write it in the OData form the SDKs
/// send (`$select=id,name`, not form-encoded `%24select=id%2Cname`, which the server's
/// parser refuses or misreads), and apply a key listing's rule against fetching secrets
/// (`x-apikeys-secret-select`, see `apikeys_common::odata::wire_url`) before sending.
pub(crate) fn prepare_request(request: &mut reqwest::Request) -> std::result::Result<(), String> {
    let url = request.url_mut();
    if let Some(path) = quote_device_uuid(url.path()) {
        url.set_path(&path);
    }
    Ok(())
}

const DEVICE_BY_UUID: (&str, &str) = ("/v7/device(uuid='", "')");

/// The path with every `'` inside the device uuid's quotes doubled, when it is a
/// device-by-uuid path holding one.
fn quote_device_uuid(path: &str) -> Option<String> {
    let (open, close) = DEVICE_BY_UUID;
    // Every request comes here: the cheap test of the end first, the search only then.
    if !path.ends_with(close) {
        return None;
    }
    let start = path.find(open)? + open.len();
    let inner = path.get(start..)?.strip_suffix(close)?;
    if !inner.contains('\'') {
        return None;
    }
    Some(format!(
        "{}{}{close}",
        path.get(..start)?,
        inner.replace('\'', "''")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_inside_a_device_uuid_are_doubled_once() {
        assert_eq!(
            quote_device_uuid("/v7/device(uuid='a'b')").as_deref(),
            Some("/v7/device(uuid='a''b')")
        );
        assert_eq!(
            quote_device_uuid("/base/v7/device(uuid=''')").as_deref(),
            Some("/base/v7/device(uuid='''')")
        );
        assert_eq!(quote_device_uuid("/v7/device(uuid='abc')"), None);
        assert_eq!(quote_device_uuid("/v7/api_key(1)"), None);
    }
}
