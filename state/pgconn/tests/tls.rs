//! sslmode against a real server with a throw-away CA: what encrypts, what verifies, what
//! refuses.

use tenantform_pgconn::{connect, Tls};
use tenantform_pgtest::PgServer;
use tokio_postgres::Config;

fn config(server: &PgServer, host: &str) -> Config {
    let mut c = Config::new();
    c.host(host).port(server.port()).user("postgres").password("postgres").dbname("postgres");
    c
}

/// Connects and says whether the session is encrypted, or the error text.
async fn ssl_in_use(c: &Config, tls: &Tls) -> Result<bool, String> {
    let (client, conn) = connect(c, tls).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let row = client
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

#[tokio::test]
async fn sslmodes_mean_what_libpq_says() {
    let server = PgServer::start_tls();
    let ca = server.ca_file().display().to_string();
    let tls = |mode: &str, root: Option<&str>| Tls::new(mode, root).unwrap();
    let local = config(&server, "localhost");
    assert_eq!(ssl_in_use(&local, &tls("disable", None)).await, Ok(false));
    assert_eq!(ssl_in_use(&local, &tls("prefer", None)).await, Ok(true), "prefer encrypts when offered");
    assert_eq!(ssl_in_use(&local, &tls("require", None)).await, Ok(true), "require does not check the CA");
    assert_eq!(ssl_in_use(&local, &tls("verify-full", Some(&ca))).await, Ok(true));
    assert_eq!(ssl_in_use(&config(&server, "127.0.0.1"), &tls("verify-full", Some(&ca))).await, Ok(true));
    let e = ssl_in_use(&local, &tls("verify-full", None)).await.unwrap_err();
    assert!(e.to_lowercase().contains("certificate"), "an unknown CA is refused: {e}");
    let e = ssl_in_use(&local, &tls("require", Some(&server.dir().join("server.crt").display().to_string())))
        .await
        .unwrap_err();
    assert!(e.to_lowercase().contains("certificate"), "require with a root file verifies the chain: {e}");

    // A host name the certificate does not name: verify-ca accepts, verify-full refuses.
    let mut other = config(&server, "db.example.invalid");
    other.hostaddr("127.0.0.1".parse().unwrap());
    assert_eq!(ssl_in_use(&other, &tls("verify-ca", Some(&ca))).await, Ok(true));
    let e = ssl_in_use(&other, &tls("verify-full", Some(&ca))).await.unwrap_err();
    assert!(e.contains("NotValidForName") || e.to_lowercase().contains("name"), "{e}");
}

#[tokio::test]
async fn tls_modes_fail_clearly_against_a_server_without_tls() {
    let server = PgServer::start();
    let local = config(&server, "localhost");
    assert_eq!(ssl_in_use(&local, &Tls::new("prefer", None).unwrap()).await, Ok(false), "prefer falls back");
    let e = ssl_in_use(&local, &Tls::new("require", None).unwrap()).await.unwrap_err();
    assert!(e.contains("TLS") || e.contains("SSL") || e.contains("ssl"), "{e}");
}
