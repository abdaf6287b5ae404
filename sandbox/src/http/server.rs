//! Our own accept loop. axum's `serve` cannot close one connection without answering, which the
//! `drop_after_write` fault needs; here each connection carries a kill switch that a handler can
//! pull, and the connection is dropped mid-request.

use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt;

/// Put into every request's extensions: `notify_one` closes the connection it came on.
#[derive(Clone)]
pub struct ConnectionKill(pub Arc<Notify>);

pub async fn serve(listener: TcpListener, router: Router) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait a moment instead of spinning.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        tokio::spawn(serve_connection(stream, router.clone()));
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let switch = ConnectionKill(kill.clone());
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(switch.clone());
        router.clone().oneshot(request)
    });
    // HTTP/1.1 only, as the clients it stands in for are reached (no HTTP/2 stack to build).
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        // Dropping the connection future closes the socket without writing anything more.
        _ = kill.notified() => {}
    }
}
