//! The accept loop: serves an axum app over HTTP/1.1 and HTTP/2 (cleartext), one task per
//! connection, and lets a handler close its own connection without answering (the fault
//! injector's "dropped connection" and "lost response"). Stops accepting on shutdown.

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Request extension: cancelling it closes the connection the request came on.
#[derive(Clone, Debug)]
pub struct ConnKill(pub CancellationToken);

impl ConnKill {
    /// Closes the connection and never returns (the handler future is dropped with it).
    pub async fn drop_connection(&self) -> ! {
        self.0.cancel();
        std::future::pending().await
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        let app = app.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let kill = CancellationToken::new();
            let k = kill.clone();
            let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnKill(k.clone()));
                app.clone().oneshot(req.map(Body::new))
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.cancelled() => {}
                _ = shutdown.cancelled() => {}
            }
        });
    }
}
