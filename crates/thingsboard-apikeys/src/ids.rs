//! Ids are objects on the wire (`{"entityType": "USER", "id": "<uuid>"}`); these
//! conversions let a bare UUID stand wherever a typed id is asked for.

use uuid::Uuid;

use crate::types::{ApiKeyId, EntityType, TenantId, UserId};

impl From<Uuid> for ApiKeyId {
    fn from(id: Uuid) -> Self {
        ApiKeyId {
            entity_type: EntityType::ApiKey,
            id,
        }
    }
}

impl From<Uuid> for UserId {
    fn from(id: Uuid) -> Self {
        UserId {
            entity_type: EntityType::User,
            id,
        }
    }
}

impl From<Uuid> for TenantId {
    fn from(id: Uuid) -> Self {
        TenantId {
            entity_type: EntityType::Tenant,
            id,
        }
    }
}
