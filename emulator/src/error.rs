//! The API's errors as the emulator answers them: `{"statusCode","type","code","requestId",
//! "message"}`, the request id filled in by the middleware.

use super::*;

/// An API error; rendered into the documented body by the middleware, which knows the
/// request id.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            kind,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request_error",
            message,
        )
    }

    pub(crate) fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        )
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            message,
        )
    }

    pub(crate) fn unauthorized(code: &'static str, message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "not_authorized_error",
            code,
            message,
        )
    }

    pub(crate) fn server(status: StatusCode) -> Self {
        Self::new(
            status,
            "internal_error",
            "server_error",
            "An unexpected error occurred.",
        )
    }

    pub(crate) fn render(&self, request_id: &str) -> Response {
        let body = json!({
            "statusCode": self.status.as_u16(),
            "type": self.kind,
            "code": self.code,
            "requestId": request_id,
            "message": self.message,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;
