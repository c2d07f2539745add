/* SPDX-License-Identifier: MIT */
/*
 * authworker.c — the threads that run password checks for the loop (see
 * authworker.h).
 *
 * Jobs live in a fixed array of `cap` slots allocated once, so a login
 * costs no allocation and a flood cannot grow memory.  Two rings of slot
 * numbers give the order: `queue` (waiting, FIFO) and `done` (finished,
 * in order of completion; the worker takes the queued job of the lowest
 * round, see authworker.h).  A slot is FREE → QUEUED → RUNNING → DONE →
 * FREE; only the mutex holder changes states, and while a slot is RUNNING
 * its data belongs to the thread that took it alone, which is why crypt
 * runs unlocked.  Every thread has its own crypt scratch.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "authworker.h"
#include "auth.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AW_PASS_MAX 256 /* what hs_decide can decode */

enum { J_FREE = 0, J_QUEUED, J_RUNNING, J_DONE };

struct aw_job {
	uint64_t id;
	int state;
	int known, ok;
	int cancelled; /* owner gone: no result for it */
	uint64_t round; /* fair-queueing turn (authworker.h) */
	uint8_t key[16];
	char hash[AUTH_HASH_MAX];
	char pass[AW_PASS_MAX];
};

#define AW_THREADS_MAX 64
/* The workers' nice value (the loop keeps its own).  3, not more: at 10
 * (weight 110 against 1024) a login waited 2.3 s for its bcrypt check
 * while one address flooded cached logins (test-hostile-login); at 3
 * (weight 526) a check still gets about half a core's share next to a
 * busy loop, and the loop still wins when a crowd logs in. */
#define AW_NICE 3

struct aw;

/* One worker thread and its libcrypt scratch (~32 KiB). */
struct aw_thr {
	struct aw *w;
	pthread_t t;
	struct crypt_data cd;
};

struct aw {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct aw_thr *thr;
	unsigned nthr; /* threads started */
	int stop;
	int efd;
	aw_verify_fn verify;
	unsigned cap, used;
	struct aw_job *jobs;
	unsigned *queue, qhead, qlen;
	unsigned *done, dhead, dlen;
	uint64_t next_id;
	uint64_t round_now; /* round of the job taken last */
};

static void job_clear(struct aw_job *j)
{
	explicit_bzero(j, sizeof(*j)); /* state = J_FREE */
}

static void notify(struct aw *w)
{
	uint64_t one = 1;
	/* Can only fail when the counter is about to overflow, and it is
	 * readable then anyway. */
	ssize_t r = write(w->efd, &one, sizeof(one));
	(void)r;
}

/* Take queue position `pos` (0 = oldest) out of the ring.  Caller locks. */
static void queue_remove(struct aw *w, unsigned pos)
{
	for (unsigned p = pos; p + 1 < w->qlen; p++)
		w->queue[(w->qhead + p) % w->cap] = w->queue[(w->qhead + p + 1) % w->cap];
	w->qlen--;
}

/* The queue position of the job to run next: the lowest round, the oldest
 * among equals (the ring is in submission order).  Caller locks. */
static unsigned pick(struct aw *w)
{
	unsigned best = 0;
	uint64_t r = UINT64_MAX;
	for (unsigned p = 0; p < w->qlen; p++) {
		const struct aw_job *j = &w->jobs[w->queue[(w->qhead + p) % w->cap]];
		if (j->round < r) {
			r = j->round;
			best = p;
		}
	}
	return best;
}

static void *worker(void *arg)
{
	struct aw_thr *t = arg;
	struct aw *w = t->w;
	/* With a thread per core the checks could take every core from the
	 * loop, which carries the sessions already up: they run a few nice
	 * levels lower, so a crowd logging in waits a little longer rather
	 * than the traffic.  Failing (a sandbox) changes nothing else. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), AW_NICE) < 0)
		errno = 0;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !w->qlen)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		unsigned pos = pick(w);
		struct aw_job *j = &w->jobs[w->queue[(w->qhead + pos) % w->cap]];
		queue_remove(w, pos);
		w->round_now = j->round;
		j->state = J_RUNNING;
		pthread_mutex_unlock(&w->mu);

		int ok = w->verify(j->hash, j->known, j->pass, &t->cd);
		explicit_bzero(j->pass, sizeof(j->pass));

		pthread_mutex_lock(&w->mu);
		int post = !j->cancelled;
		if (post) {
			j->ok = ok;
			j->state = J_DONE;
			w->done[(w->dhead + w->dlen) % w->cap] = (unsigned)(j - w->jobs);
			w->dlen++;
		} else {
			job_clear(j);
			w->used--;
		}
		pthread_mutex_unlock(&w->mu);
		if (post)
			notify(w);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct aw *aw_new(unsigned cap, aw_verify_fn verify, char *err, size_t errlen)
{
	return aw_new_n(cap, 1, verify, err, errlen);
}

/* Stop and join the threads started so far.  The mutex is unlocked. */
static void stop_threads(struct aw *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->nthr; i++)
		pthread_join(w->thr[i].t, NULL);
	w->nthr = 0;
}

static void release(struct aw *w)
{
	if (w->efd >= 0)
		close(w->efd);
	free(w->jobs);
	free(w->queue);
	free(w->done);
	free(w->thr);
	free(w);
}

struct aw *aw_new_n(unsigned cap, unsigned threads, aw_verify_fn verify, char *err,
		    size_t errlen)
{
	sigset_t all, old;
	int rc = 0;
	struct aw *w = calloc(1, sizeof(*w));
	if (!w)
		goto nomem;
	w->efd = -1;
	if (!cap || !threads || threads > AW_THREADS_MAX) {
		snprintf(err, errlen, "auth worker: %u threads for %u jobs (1..%d threads)", threads,
			 cap, AW_THREADS_MAX);
		goto fail;
	}
	w->cap = cap;
	w->verify = verify ? verify : auth_verify;
	w->jobs = calloc(cap, sizeof(*w->jobs));
	w->queue = calloc(cap, sizeof(*w->queue));
	w->done = calloc(cap, sizeof(*w->done));
	w->thr = calloc(threads, sizeof(*w->thr));
	if (!w->jobs || !w->queue || !w->done || !w->thr)
		goto nomem;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		snprintf(err, errlen, "auth worker: eventfd: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* Signals belong to the loop (signalfd or handlers): the workers
	 * start with all of them blocked so none is delivered to them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < threads && !rc; i++) {
		w->thr[i].w = w;
		rc = pthread_create(&w->thr[i].t, NULL, worker, &w->thr[i]);
		if (!rc)
			w->nthr++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "auth worker: cannot start a thread: %s", strerror(rc));
		stop_threads(w);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		goto fail;
	}
	return w;
nomem:
	snprintf(err, errlen, "auth worker: out of memory");
fail:
	if (w)
		release(w);
	return NULL;
}

void aw_free(struct aw *w)
{
	if (!w)
		return;
	stop_threads(w);
	/* Queued jobs still hold passwords. */
	explicit_bzero(w->jobs, w->cap * sizeof(*w->jobs));
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	release(w);
}

unsigned aw_threads(const struct aw *w) { return w->nthr; }

int aw_fd(const struct aw *w) { return w->efd; }

int aw_submit(struct aw *w, const char *hash, int known, const char *pass, uint64_t *id)
{
	static const uint8_t nokey[16];
	return aw_submit_from(w, nokey, hash, known, pass, id);
}

int aw_submit_from(struct aw *w, const uint8_t key[16], const char *hash, int known,
		   const char *pass, uint64_t *id)
{
	size_t hl = strlen(hash), pl = strlen(pass);
	if (hl >= AUTH_HASH_MAX || pl >= AW_PASS_MAX) {
		errno = E2BIG;
		return -1;
	}
	pthread_mutex_lock(&w->mu);
	if (w->used == w->cap) {
		pthread_mutex_unlock(&w->mu);
		errno = EAGAIN;
		return -1;
	}
	unsigned i = 0;
	while (w->jobs[i].state != J_FREE)
		i++; /* used < cap: there is one */
	struct aw_job *j = &w->jobs[i];
	memcpy(j->hash, hash, hl + 1);
	memcpy(j->pass, pass, pl + 1);
	j->known = known;
	j->cancelled = 0;
	memcpy(j->key, key, 16);
	/* The round after the last one this key holds, queued or running
	 * (a key whose check is running has had its turn in that round),
	 * and no earlier than the round being served. */
	j->round = w->round_now;
	for (unsigned k = 0; k < w->cap; k++) {
		const struct aw_job *o = &w->jobs[k];
		if ((o->state == J_QUEUED || o->state == J_RUNNING) && !o->cancelled &&
		    memcmp(o->key, key, 16) == 0 && o->round >= j->round)
			j->round = o->round + 1;
	}
	j->id = *id = ++w->next_id;
	j->state = J_QUEUED;
	w->queue[(w->qhead + w->qlen) % w->cap] = i;
	w->qlen++;
	w->used++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

/* Drop queued job at queue position pos, or mark a running/done one so
 * its result is never handed out.  Caller locks. */
static void drop(struct aw *w, struct aw_job *j, unsigned pos)
{
	if (j->state == J_QUEUED) {
		queue_remove(w, pos);
		job_clear(j);
		w->used--;
	} else {
		j->cancelled = 1;
	}
}

void aw_cancel(struct aw *w, uint64_t id)
{
	if (!id)
		return;
	pthread_mutex_lock(&w->mu);
	for (unsigned i = 0; i < w->cap; i++) {
		struct aw_job *j = &w->jobs[i];
		if (j->state == J_FREE || j->id != id)
			continue;
		unsigned pos = 0;
		if (j->state == J_QUEUED)
			while (w->queue[(w->qhead + pos) % w->cap] != i)
				pos++;
		drop(w, j, pos);
		break;
	}
	pthread_mutex_unlock(&w->mu);
}

unsigned aw_sweep(struct aw *w, int (*keep)(void *arg, uint64_t id), void *arg)
{
	unsigned n = 0;
	pthread_mutex_lock(&w->mu);
	for (unsigned pos = 0; pos < w->qlen;) {
		struct aw_job *j = &w->jobs[w->queue[(w->qhead + pos) % w->cap]];
		if (keep(arg, j->id)) {
			pos++;
			continue;
		}
		drop(w, j, pos); /* the next job moved into `pos` */
		n++;
	}
	pthread_mutex_unlock(&w->mu);
	return n;
}

unsigned aw_pending(struct aw *w)
{
	pthread_mutex_lock(&w->mu);
	unsigned n = w->used;
	pthread_mutex_unlock(&w->mu);
	return n;
}

size_t aw_collect(struct aw *w, struct aw_result *out, size_t max)
{
	uint64_t cnt;
	size_t n = 0;
	/* Clear first: a result posted after this read rings it again. */
	if (read(w->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->dlen && n < max) {
		struct aw_job *j = &w->jobs[w->done[w->dhead]];
		w->dhead = (w->dhead + 1) % w->cap;
		w->dlen--;
		if (!j->cancelled) {
			out[n].id = j->id;
			out[n].ok = j->ok;
			n++;
		}
		job_clear(j);
		w->used--;
	}
	int more = w->dlen > 0;
	pthread_mutex_unlock(&w->mu);
	if (more) /* the caller's array was full: keep the fd readable */
		notify(w);
	return n;
}
