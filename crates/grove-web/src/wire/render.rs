//! A json-render status tree on the wire: `{type, props?, children?}`
//! nodes, as `GET /api/v1/executions/{runId}/render-tree` answers and the
//! console's Status tab renders.

use grove_core::render::RenderNode;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One node of a render tree; the root's type is `root`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RenderNodeOut {
    /// A catalog component (JobPhaseIndicator, JobProgressBar, …) or `root`.
    #[schema(example = "JobPhaseIndicator")]
    pub r#type: String,
    /// The component's props, as its catalog schema declares them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Object>)]
    pub props: Option<Value>,
    /// Absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<RenderNodeOut>,
}

impl From<&RenderNode> for RenderNodeOut {
    fn from(n: &RenderNode) -> Self {
        Self {
            r#type: n.node_type.clone(),
            props: n.props.clone(),
            children: n.children.iter().map(Self::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_written_as_core_writes_it() {
        let tree = RenderNode::root(vec![RenderNode {
            node_type: "JobPhaseIndicator".to_owned(),
            props: Some(serde_json::json!({"phase": "running"})),
            children: Vec::new(),
        }]);
        assert_eq!(
            serde_json::to_value(RenderNodeOut::from(&tree)).expect("json"),
            serde_json::to_value(&tree).expect("json")
        );
    }
}
