//! The server's error answer: a status and `{"error": "…"}` naming what was wrong.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answer: a status and a message naming what was wrong.
pub struct ApiError(StatusCode, String);

impl ApiError {
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, message.into())
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError(StatusCode::NOT_FOUND, format!("no {what}"))
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError(StatusCode::UNAUTHORIZED, message.into())
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError(StatusCode::PAYLOAD_TOO_LARGE, message.into())
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError(StatusCode::CONFLICT, message.into())
    }

    pub fn internal(message: impl ToString) -> ApiError {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, message.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}
