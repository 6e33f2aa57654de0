//! The organization a call is about. The user-scoped routes take it as the query
//! parameter `o`, the organization route in its path; [`Org`] fills in either, so
//! the organization is named once, for every call, and cannot be left out.

use crate::Client;
use crate::builder::{
    CreateUserApiKey, DecryptUserApiKey, DeleteUserApiKey, GetOrganizationApiKeys, GetUserApiKey,
    GetUserApiKeys, UpdateUserApiKey,
};

/// The calls of one organization: [`Client::org`].
///
/// Each method returns the operation's builder with the organization already set (as `o`,
/// or as the path's `id` for [`Org::get_organization_api_keys`]); set the rest as usual.
///
/// Ids are integers, so no id can change the shape of a path: a string such as
/// `../x` does not even compile.
///
/// ```compile_fail
/// # async fn demo(client: automox_apikeys::Client) {
/// let _ = client.org(1234).get_user_api_key().user_id("../x").id(424242).send().await;
/// # }
/// ```
///
/// ```no_run
/// # async fn demo(client: automox_apikeys::Client) {
/// let _ = client.org(1234).get_user_api_key().user_id(98765).id(424242).send().await;
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Org<'a> {
    client: &'a Client,
    id: i64,
}

impl Client {
    /// The calls of the organization `id`, which each send it the way its route expects.
    ///
    /// The generated methods on `Client` take the organization as `.o(..)` (a request
    /// without it is refused before it is sent); this is the shorter, safer way.
    ///
    /// ```no_run
    /// # async fn demo(client: automox_apikeys::Client) -> automox_apikeys::Result<()> {
    /// use automox_apikeys::types::UpdateApiKey;
    ///
    /// let org = client.org(1234);
    /// let secret = org
    ///     .decrypt_user_api_key()
    ///     .user_id(98765)
    ///     .id(424242)
    ///     .send()
    ///     .await?
    ///     .api_key;
    /// org.update_user_api_key()
    ///     .user_id(98765)
    ///     .id(424242)
    ///     .body(UpdateApiKey { is_enabled: false })
    ///     .send()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn org(&self, id: i64) -> Org<'_> {
        Org { client: self, id }
    }
}

impl<'a> Org<'a> {
    /// The organization's id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// [`Client::get_organization_api_keys`] with the organization in the path.
    pub fn get_organization_api_keys(&self) -> GetOrganizationApiKeys<'a> {
        self.client.get_organization_api_keys().id(self.id)
    }

    /// [`Client::get_user_api_keys`] with `o` set.
    pub fn get_user_api_keys(&self) -> GetUserApiKeys<'a> {
        self.client.get_user_api_keys().o(self.id)
    }

    /// [`Client::create_user_api_key`] with `o` set.
    pub fn create_user_api_key(&self) -> CreateUserApiKey<'a> {
        self.client.create_user_api_key().o(self.id)
    }

    /// [`Client::get_user_api_key`] with `o` set.
    pub fn get_user_api_key(&self) -> GetUserApiKey<'a> {
        self.client.get_user_api_key().o(self.id)
    }

    /// [`Client::update_user_api_key`] with `o` set.
    pub fn update_user_api_key(&self) -> UpdateUserApiKey<'a> {
        self.client.update_user_api_key().o(self.id)
    }

    /// [`Client::delete_user_api_key`] with `o` set.
    pub fn delete_user_api_key(&self) -> DeleteUserApiKey<'a> {
        self.client.delete_user_api_key().o(self.id)
    }

    /// [`Client::decrypt_user_api_key`] with `o` set: the key's secret.
    pub fn decrypt_user_api_key(&self) -> DecryptUserApiKey<'a> {
        self.client.decrypt_user_api_key().o(self.id)
    }
}
