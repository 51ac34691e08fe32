/* Nonblocking family in C: counterpart of bench/nonblocking.py.
 * Kinds:
 *   win:<n>x<W>  rank 0: W MPI_Isend of n-byte slices of one buffer, rank 1:
 *                W MPI_Irecv; both MPI_Waitall; rank 1 -> 0 a 1-byte ack.
 *   ipp:<n>      ping-pong, MPI_Isend+MPI_Wait / MPI_Irecv+MPI_Wait.
 *   inull:<n>    MPI_Isend to MPI_PROC_NULL + MPI_Wait, on both ranks.
 *   inullwin:<n>x<W>  W MPI_Isend to MPI_PROC_NULL, one MPI_Waitall, on both
 *                ranks.
 * Run on exactly 2 ranks. */
#include "bench.h"

enum { TAG = 0, ACK_TAG = 1, CHECK_TAG = 2 };

typedef struct {
    unsigned char *buf;
    unsigned char ack;
    int n, w, rank;
    MPI_Request *reqs;
} nb_ctx;

static void win_body(long count, void *p)
{
    nb_ctx *c = p;
    long i;
    int k;
    for (i = 0; i < count; i++) {
        if (c->rank == 0) {
            for (k = 0; k < c->w; k++)
                MPI_Isend(c->buf + (size_t)k * (size_t)c->n, c->n, MPI_BYTE,
                          1, TAG, MPI_COMM_WORLD, &c->reqs[k]);
            MPI_Waitall(c->w, c->reqs, MPI_STATUSES_IGNORE);
            MPI_Recv(&c->ack, 1, MPI_BYTE, 1, ACK_TAG, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        } else {
            for (k = 0; k < c->w; k++)
                MPI_Irecv(c->buf + (size_t)k * (size_t)c->n, c->n, MPI_BYTE,
                          0, TAG, MPI_COMM_WORLD, &c->reqs[k]);
            MPI_Waitall(c->w, c->reqs, MPI_STATUSES_IGNORE);
            MPI_Send(&c->ack, 1, MPI_BYTE, 0, ACK_TAG, MPI_COMM_WORLD);
        }
    }
}

static void ipp_send(nb_ctx *c, int peer, int tag)
{
    MPI_Request r;
    MPI_Isend(c->buf, c->n, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &r);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
}

static void ipp_recv(nb_ctx *c, int peer, int tag)
{
    MPI_Request r;
    MPI_Irecv(c->buf, c->n, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &r);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
}

static void ipp_body(long count, void *p)
{
    nb_ctx *c = p;
    long i;
    if (c->rank == 0) {
        for (i = 0; i < count; i++) {
            ipp_send(c, 1, TAG);
            ipp_recv(c, 1, TAG);
        }
    } else {
        for (i = 0; i < count; i++) {
            ipp_recv(c, 0, TAG);
            ipp_send(c, 0, TAG);
        }
    }
}

static void inull_body(long count, void *p)
{
    nb_ctx *c = p;
    long i;
    for (i = 0; i < count; i++)
        ipp_send(c, MPI_PROC_NULL, TAG);
}

static void inullwin_body(long count, void *p)
{
    nb_ctx *c = p;
    long i;
    int k;
    for (i = 0; i < count; i++) {
        for (k = 0; k < c->w; k++)
            MPI_Isend(c->buf, c->n, MPI_BYTE, MPI_PROC_NULL, TAG,
                      MPI_COMM_WORLD, &c->reqs[k]);
        MPI_Waitall(c->w, c->reqs, MPI_STATUSES_IGNORE);
    }
}

static unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *ref = malloc(n + 1);
    size_t i;
    for (i = 0; i < n; i++)
        ref[i] = (unsigned char)(((unsigned)i * 7u + seed) % 251u);
    return ref;
}

/* One window 0 -> 1 of a known pattern, echoed back as a window and
 * checked on rank 0 (bench/nonblocking.py does the same). */
static int win_validate(nb_ctx *c)
{
    size_t total = (size_t)c->n * (size_t)c->w;
    unsigned char *ref = pattern(total, 3);
    int k, ok = 1, peer = 1 - c->rank;
    for (int step = 0; step < 2; step++) {
        int sending = (step == 0) == (c->rank == 0);
        for (k = 0; k < c->w; k++) {
            size_t off = (size_t)k * (size_t)c->n;
            if (sending)
                MPI_Isend((c->rank == 0 ? ref : c->buf) + off, c->n, MPI_BYTE,
                          peer, CHECK_TAG, MPI_COMM_WORLD, &c->reqs[k]);
            else
                MPI_Irecv(c->buf + off, c->n, MPI_BYTE, peer, CHECK_TAG,
                          MPI_COMM_WORLD, &c->reqs[k]);
        }
        MPI_Waitall(c->w, c->reqs, MPI_STATUSES_IGNORE);
    }
    if (c->rank == 0)
        ok = memcmp(ref, c->buf, total) == 0;
    free(ref);
    return ok;
}

static int ipp_validate(nb_ctx *c)
{
    unsigned char *ref = pattern((size_t)c->n, 3);
    int ok = 1;
    if (c->rank == 0) {
        unsigned char *keep = c->buf;
        c->buf = ref;
        ipp_send(c, 1, CHECK_TAG);
        c->buf = keep;
        ipp_recv(c, 1, CHECK_TAG);
        ok = memcmp(ref, c->buf, (size_t)c->n) == 0;
    } else {
        ipp_recv(c, 0, CHECK_TAG);
        ipp_send(c, 0, CHECK_TAG);
    }
    free(ref);
    return ok;
}

int main(int argc, char **argv)
{
    int first = bench_init(&argc, &argv, "nonblocking"), rank, a;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (a = first; a < argc; a++) {
        bench_case c;
        nb_ctx ctx;
        bench_case_arg(argv[a], &c);
        memset(&ctx, 0, sizeof ctx);
        ctx.rank = rank;
        ctx.w = 1;
        if (strchr(c.param, 'x')) {
            if (sscanf(c.param, "%dx%d", &ctx.n, &ctx.w) != 2 || ctx.w < 1) {
                if (rank == 0)
                    fprintf(stderr, "bad window '%s'\n", c.param);
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
        } else {
            ctx.n = atoi(c.param);
        }
        /* zeroed like np.zeros */
        ctx.buf = calloc((size_t)ctx.n * (size_t)ctx.w + 1, 1);
        ctx.reqs = calloc((size_t)ctx.w, sizeof(MPI_Request));
        if (strcmp(c.kind, "win") == 0) {
            int ok = win_validate(&ctx);
            bench_run(&c, win_body, &ctx, ok);
        } else if (strcmp(c.kind, "ipp") == 0) {
            int ok = ipp_validate(&ctx);
            bench_run(&c, ipp_body, &ctx, ok);
        } else if (strcmp(c.kind, "inull") == 0) {
            bench_run(&c, inull_body, &ctx, 1);
        } else if (strcmp(c.kind, "inullwin") == 0) {
            bench_run(&c, inullwin_body, &ctx, 1);
        } else if (rank == 0) {
            fprintf(stderr, "nonblocking.c: skipping unsupported kind '%s'\n",
                    c.kind);
        }
        free(ctx.reqs);
        free(ctx.buf);
    }
    bench_finish();
    return 0;
}
