//! A byte relay in front of the tiny_http server.
//!
//! tiny_http owns the sockets it accepts and offers no way to close a keep-alive
//! connection without writing a status line (dropping a `Request` answers 500).
//! To drop or hang requests the way a broken service or network would, and to
//! close every client connection on shutdown, the mock accepts the client
//! connections itself and relays their bytes to an internal tiny_http server on
//! a loopback port. All HTTP parsing stays in tiny_http; this module only moves
//! bytes and can close a client connection given the internal address tiny_http
//! reports as the request's remote address.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

pub(crate) struct Relay {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Internal (relay-side) local address -> (client socket, internal socket).
    conns: HashMap<SocketAddr, (TcpStream, TcpStream)>,
    pumps: Vec<JoinHandle<()>>,
    closed: bool,
}

fn close(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Both);
}

impl Relay {
    pub(crate) fn new() -> Arc<Relay> {
        Arc::new(Relay {
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Accepts client connections until `stopping` is set (the stopper then makes
    /// one connection to wake the blocked `accept`).
    pub(crate) fn accept_loop(self: Arc<Self>, listener: TcpListener, internal: SocketAddr, stopping: Arc<AtomicBool>) {
        loop {
            let accepted = listener.accept();
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            match accepted {
                Ok((client, _)) => self.relay(client, internal),
                // Out of descriptors or the like: do not spin while it lasts.
                Err(_) => thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    }

    fn relay(self: &Arc<Self>, client: TcpStream, internal: SocketAddr) {
        let Ok(upstream) = TcpStream::connect(internal) else {
            close(&client);
            return;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let (Ok(key), Ok(c2), Ok(u2), Ok(c3), Ok(u3)) = (
            upstream.local_addr(),
            client.try_clone(),
            upstream.try_clone(),
            client.try_clone(),
            upstream.try_clone(),
        ) else {
            close(&client);
            close(&upstream);
            return;
        };
        let mut st = self.lock();
        if st.closed {
            close(&client);
            close(&upstream);
            return;
        }
        st.pumps.retain(|h| !h.is_finished());
        st.conns.insert(key, (c3, u3));
        // client -> tiny_http. At the client's EOF, pass the half-close on so
        // that answers still in flight reach the client.
        let up = thread::Builder::new().name("lts-mock-relay-up".into()).spawn(move || {
            let (mut from, mut to) = (client, upstream);
            match pump(&mut from, &mut to) {
                Ok(()) => {
                    let _ = to.shutdown(Shutdown::Write);
                }
                Err(_) => {
                    close(&from);
                    close(&to);
                }
            }
        });
        // tiny_http -> client. When tiny_http ends the connection, end it for
        // the client too, and forget it.
        let relay = Arc::clone(self);
        let down = thread::Builder::new()
            .name("lts-mock-relay-down".into())
            .spawn(move || {
                let (mut from, mut to) = (u2, c2);
                let _ = pump(&mut from, &mut to);
                close(&to);
                close(&from);
                relay.lock().conns.remove(&key);
            });
        match (up, down) {
            (Ok(a), Ok(b)) => {
                st.pumps.push(a);
                st.pumps.push(b);
            }
            (a, b) => {
                // Could not start both pumps: give up on this connection; the
                // one that started ends once the sockets are shut.
                if let Some((c, u)) = st.conns.remove(&key) {
                    close(&c);
                    close(&u);
                }
                st.pumps.extend(a.ok());
                st.pumps.extend(b.ok());
            }
        }
    }

    /// Closes the client connection whose relay side has this address, without
    /// sending anything more to the client. Returns whether it was found.
    pub(crate) fn kill(&self, internal_peer: Option<SocketAddr>) -> bool {
        let st = self.lock();
        match internal_peer.and_then(|a| st.conns.get(&a)) {
            Some((c, u)) => {
                // The write side first, so that the client sees a FIN (EOF).
                let _ = c.shutdown(Shutdown::Write);
                close(c);
                close(u);
                true
            }
            None => false,
        }
    }

    /// Closes every connection, refuses new ones and joins the relay threads.
    pub(crate) fn close_all(&self) {
        let pumps = {
            let mut st = self.lock();
            st.closed = true;
            for (c, u) in st.conns.values() {
                let _ = c.shutdown(Shutdown::Write);
                close(c);
                close(u);
            }
            std::mem::take(&mut st.pumps)
        };
        for p in pumps {
            let _ = p.join();
        }
    }
}

/// Copies until EOF; a larger buffer than `io::copy`'s for multi-megabyte bodies.
fn pump(from: &mut TcpStream, to: &mut TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
    }
}
