//! What every handler shares.

use std::sync::Arc;

use kadry::Service;

use crate::auth::Auth;

/// The server's shared state.
#[derive(Clone)]
pub struct AppState {
    /// The region's service.
    pub service: Service,
    /// Accounts' passwords, sessions and codes.
    pub auth: Arc<Auth>,
}
