//! The root causes known between audits, in the dedup table: one item per account and
//! region (`pk` = `audit-state#<account>#<region>`), holding every known blocking cause as
//! JSON and a version number. A sweep or change alarm reads it, posts what is new or fixed,
//! then writes it back on the condition that nobody wrote it meanwhile; on a conflict it
//! merges with what the other invocation wrote and tries again.
//!
//! The item has no `expires_at`, so the table's TTL never removes it.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::dedup::DedupError;
use crate::audit::delta::KnownCauses;

/// Conflicting writes tried before giving up (the invocation then fails and is retried).
const MAX_WRITES: usize = 4;

/// The known causes, and the version they were read at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    pub causes: KnownCauses,
    /// 0 when there is no item, or one without a version (written by hand).
    pub version: u64,
    pub exists: bool,
}

#[derive(Debug, Clone)]
pub struct KnownCausesStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl KnownCausesStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        KnownCausesStore { client, table }
    }

    fn key(account: &str, region: &str) -> AttributeValue {
        AttributeValue::S(format!("audit-state#{account}#{region}"))
    }

    pub async fn load(&self, account: &str, region: &str) -> Result<Known, DedupError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", Self::key(account, region))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
        let Some(item) = out.item() else {
            return Ok(Known::default());
        };
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let causes = item
            .get("causes")
            .and_then(|v| v.as_s().ok())
            .map(|json| serde_json::from_str(json))
            .transpose()
            .map_err(|e| DedupError {
                action: "dynamodb:GetItem",
                table: self.table.clone(),
                message: format!("the audit-state item's causes are not readable: {e}"),
            })?
            .unwrap_or_default();
        Ok(Known {
            causes,
            version,
            exists: true,
        })
    }

    /// Writes `next(current)` where `current` is what is stored: first `read` itself, then,
    /// if another invocation wrote meanwhile, what it wrote.
    pub async fn save(
        &self,
        account: &str,
        region: &str,
        read: Known,
        next: impl Fn(&KnownCauses) -> KnownCauses,
        now: u64,
    ) -> Result<(), DedupError> {
        let mut current = read;
        for _ in 0..MAX_WRITES {
            let causes = next(&current.causes);
            let json = serde_json::to_string(&causes).expect("known causes serialise");
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", Self::key(account, region))
                .item("causes", AttributeValue::S(json))
                .item(
                    "version",
                    AttributeValue::N((current.version + 1).to_string()),
                )
                .item("updated_at", AttributeValue::N(now.to_string()));
            put = if !current.exists {
                put.condition_expression("attribute_not_exists(pk)")
            } else if current.version == 0 {
                put.condition_expression("attribute_not_exists(version)")
            } else {
                put.condition_expression("version = :read")
                    .expression_attribute_values(
                        ":read",
                        AttributeValue::N(current.version.to_string()),
                    )
            };
            match put.send().await {
                Ok(_) => return Ok(()),
                Err(err)
                    if matches!(
                        err.as_service_error(),
                        Some(PutItemError::ConditionalCheckFailedException(_))
                    ) =>
                {
                    current = self.load(account, region).await?;
                }
                Err(err) => {
                    return Err(DedupError::from_sdk("dynamodb:PutItem", &self.table, &err))
                }
            }
        }
        Err(DedupError {
            action: "dynamodb:PutItem",
            table: self.table.clone(),
            message: format!(
                "the audit-state item kept changing ({MAX_WRITES} conflicting writes)"
            ),
        })
    }
}
