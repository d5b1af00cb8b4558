//! Extractors whose rejections use the API's error format, and the
//! credential extractors (defined in `auth`).

use axum::{
    extract::{FromRequest, FromRequestParts},
    Json,
};

pub use crate::auth::{AdminKey, KeyHolder, VerifyCaller};
use crate::error::ApiError;

/// `Json` whose rejections use our error format.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

/// `Query` whose rejections use our error format.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// `Path` whose rejections use our error format.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);
