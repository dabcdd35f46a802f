//! The pipelined push (ADR 0018): answers recorded while the next batch is in
//! flight, and exactly-once by op id when answers are lost.

use super::*;

/// Logged in with batches of two and `n` visits queued.
async fn queued(n: usize) -> Env {
    let e = env_with(ClientOptions { push_batch_size: 2, ..fast_options() }).await;
    e.client.login("leader".into(), "pw".into()).await.expect("login");
    e.client.sync().await.expect("first sync");
    for i in 0..n {
        e.client.record_visit(visit(&format!("v{i}"))).expect("visit");
    }
    e.mock.lock().expect("lock").pushes = 0;
    e
}

#[tokio::test]
async fn answers_before_a_failed_batch_are_recorded_and_the_rest_stay_queued() {
    let e = queued(5).await;
    e.mock.lock().expect("lock").fail_pushes_from = Some(2);
    let seen = Arc::new(Seen::default());
    let err = e.client.sync_with(Some(seen.clone()), None).await.expect_err("the second batch fails");
    assert_eq!(err.code(), "server");
    // The first batch's answers were recorded while the second was in flight.
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 3);
    let pushing: Vec<(u64, u64)> =
        seen.0.lock().expect("lock").iter().filter(|p| p.0 == SyncPhase::Pushing).map(|p| (p.1, p.2)).collect();
    assert_eq!(pushing, vec![(0, 5), (2, 5)]);
    e.mock.lock().expect("lock").fail_pushes_from = None;
    let report = e.client.sync().await.expect("later");
    assert_eq!((report.pushed_applied, report.pushed_duplicate), (3, 0));
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 0);
    assert_eq!(e.mock.lock().expect("lock").seen_ops.len(), 5, "each op applied once");
}

#[tokio::test]
async fn a_lost_answer_is_sent_again_and_answered_duplicate() {
    let e = queued(5).await;
    // The second batch is applied but its answer never arrives (and the
    // retries fail too): the phone stops with those ops still queued.
    {
        let mut m = e.mock.lock().expect("lock");
        m.lose_answer_of = Some(2);
        m.fail_pushes_from = Some(3);
    }
    e.client.sync().await.expect_err("answers lost");
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 3);
    {
        let mut m = e.mock.lock().expect("lock");
        m.fail_pushes_from = None;
        m.lose_answer_of = None;
    }
    let report = e.client.sync().await.expect("later");
    assert_eq!((report.pushed_applied, report.pushed_duplicate), (1, 2), "the two lost answers come back duplicate");
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 0);
    assert_eq!(e.mock.lock().expect("lock").seen_ops.len(), 5);
    let synced = e.client.list_visits(10).expect("list").iter().filter(|v| !v.pending).count();
    assert_eq!(synced, 5, "every record synced");
}
