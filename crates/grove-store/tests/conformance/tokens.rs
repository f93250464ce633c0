use std::sync::Arc;

use grove_store::{ApiToken, Role, Store, StoreError};

use super::at;

#[macro_export]
macro_rules! tokens_suite {
    ($fresh:path) => {
        mod tokens {
            use super::*;
            #[tokio::test]
            async fn tokens_are_found_by_hash() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::tokens::tokens_are_found_by_hash,
                )
                .await
            }
        }
    };
}

pub async fn tokens_are_found_by_hash(store: Arc<dyn Store>) {
    assert_eq!(store.token_count().await.unwrap(), 0);
    let token = ApiToken {
        id: "t1".to_owned(),
        name: "ci".to_owned(),
        role: Role::Operator,
        hash: "abc".to_owned(),
        created_at: at("2026-01-01T00:00:00Z"),
    };
    store.token_insert(token.clone()).await.unwrap();
    assert_eq!(store.token_find("abc").await.unwrap(), Some(token.clone()));
    assert_eq!(store.token_find("abd").await.unwrap(), None);
    let err = store
        .token_insert(ApiToken {
            id: "t2".to_owned(),
            ..token
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists), "{err:?}");
    assert_eq!(store.token_count().await.unwrap(), 1);
}
