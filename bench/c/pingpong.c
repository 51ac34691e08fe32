/* Ping-pong family in C: counterpart of bench/pingpong.py.
 * Kinds: buf (MPI_Send/MPI_Recv of param bytes as MPI_BYTE, one buffer
 * echoed rank 0 -> 1 -> 0) and barrier.  Run on exactly 2 ranks. */
#include "bench.h"

typedef struct {
    unsigned char *buf;
    int n, rank;
} pp_ctx;

static void pp_body(long count, void *p)
{
    pp_ctx *c = p;
    long i;
    if (c->rank == 0) {
        for (i = 0; i < count; i++) {
            MPI_Send(c->buf, c->n, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(c->buf, c->n, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    } else {
        for (i = 0; i < count; i++) {
            MPI_Recv(c->buf, c->n, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(c->buf, c->n, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
        }
    }
}

static void barrier_body(long count, void *p)
{
    long i;
    (void)p;
    for (i = 0; i < count; i++)
        MPI_Barrier(MPI_COMM_WORLD);
}

/* One echo of a known pattern, checked on rank 0. */
static int pp_validate(pp_ctx *c)
{
    unsigned char *ref = malloc((size_t)c->n + 1);
    int i, ok = 1;
    for (i = 0; i < c->n; i++)
        ref[i] = (unsigned char)(((unsigned)i * 7u + 3u) % 251u);
    if (c->rank == 0) {
        MPI_Send(ref, c->n, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
        MPI_Recv(c->buf, c->n, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        ok = memcmp(ref, c->buf, (size_t)c->n) == 0;
    } else {
        MPI_Recv(c->buf, c->n, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(c->buf, c->n, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
    free(ref);
    return ok;
}

int main(int argc, char **argv)
{
    int first = bench_init(&argc, &argv, "pingpong"), rank, a;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (a = first; a < argc; a++) {
        bench_case c;
        bench_case_arg(argv[a], &c);
        if (strcmp(c.kind, "buf") == 0) {
            pp_ctx ctx;
            ctx.n = atoi(c.param);
            ctx.rank = rank;
            ctx.buf = calloc((size_t)ctx.n + 1, 1);  /* zeroed like np.zeros */
            int ok = pp_validate(&ctx);
            bench_run(&c, pp_body, &ctx, ok);
            free(ctx.buf);
        } else if (strcmp(c.kind, "barrier") == 0) {
            bench_run(&c, barrier_body, NULL, 1);
        } else if (rank == 0) {
            fprintf(stderr, "pingpong.c: skipping unsupported kind '%s'\n", c.kind);
        }
    }
    bench_finish();
    return 0;
}
