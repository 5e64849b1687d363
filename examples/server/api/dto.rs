//! Request pieces shared by several resources.

use kadry::core::model::Audience;
use serde::Deserialize;
use utoipa::ToSchema;

/// The word `"all"`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllWord {
    /// Every value.
    All,
}

/// An item of an audience list: a value, or `"all"` (then the list matches every value).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OrAll<T> {
    /// `"all"`.
    All(AllWord),
    /// One value.
    One(T),
}

/// A list where `["all"]` (any `"all"` item) means every value; an empty list matches nothing.
pub fn audience<T>(items: Vec<OrAll<T>>) -> Audience<T> {
    if items.iter().any(|i| matches!(i, OrAll::All(_))) {
        return Audience::All;
    }
    Audience::Only(
        items
            .into_iter()
            .filter_map(|i| match i {
                OrAll::One(v) => Some(v),
                OrAll::All(_) => None,
            })
            .collect(),
    )
}

/// A list of free-text values where an item `"all"` means every value.
pub fn text_audience(items: Vec<String>) -> Audience<String> {
    if items.iter().any(|s| s == "all") { Audience::All } else { Audience::Only(items) }
}
