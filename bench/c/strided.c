/* Strided family in C: counterpart of bench/strided.py.  Every other
 * double of an array (param = bytes of data) from rank 0 to rank 1,
 * described by MPI_Type_vector(n, 1, 2, MPI_DOUBLE), then a 1-byte ack.
 *   sv_send: rank 0 sends the vector, rank 1 receives n contiguous doubles
 *   sv_recv: rank 0 sends n contiguous doubles, rank 1 receives the vector
 * Run on exactly 2 ranks. */
#include "bench.h"

typedef struct {
    double *strided, *contig;
    MPI_Datatype vec;
    int n, rank, recv_strided;
} sv_ctx;

static void sv_body(long count, void *p)
{
    sv_ctx *c = p;
    unsigned char ack = 0;
    long i;
    for (i = 0; i < count; i++) {
        if (c->rank == 0) {
            if (c->recv_strided)
                MPI_Send(c->contig, c->n, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD);
            else
                MPI_Send(c->strided, 1, c->vec, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(&ack, 1, MPI_BYTE, 1, 1, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        } else {
            if (c->recv_strided)
                MPI_Recv(c->strided, 1, c->vec, 0, 0, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
            else
                MPI_Recv(c->contig, c->n, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
            MPI_Send(&ack, 1, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
        }
    }
}

int main(int argc, char **argv)
{
    int first = bench_init(&argc, &argv, "strided"), rank, a, i;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (a = first; a < argc; a++) {
        bench_case c;
        sv_ctx ctx;
        int ok = 1;
        bench_case_arg(argv[a], &c);
        memset(&ctx, 0, sizeof ctx);
        ctx.rank = rank;
        ctx.n = atoi(c.param) / 8;
        if (strcmp(c.kind, "sv_send") == 0)
            ctx.recv_strided = 0;
        else if (strcmp(c.kind, "sv_recv") == 0)
            ctx.recv_strided = 1;
        else {
            if (rank == 0)
                fprintf(stderr, "strided.c: skipping unsupported kind "
                        "'%s'\n", c.kind);
            continue;
        }
        ctx.strided = calloc(2 * (size_t)ctx.n, sizeof(double));
        ctx.contig = calloc((size_t)ctx.n, sizeof(double));
        MPI_Type_vector(ctx.n, 1, 2, MPI_DOUBLE, &ctx.vec);
        MPI_Type_commit(&ctx.vec);
        for (i = 0; i < 2 * ctx.n; i++)
            ctx.strided[i] = -1.0;
        if (rank == 0)
            for (i = 0; i < ctx.n; i++) {
                ctx.strided[2 * i] = 3.0 * i + 1.0;
                ctx.contig[i] = 3.0 * i + 1.0;
            }
        sv_body(1, &ctx);
        if (rank == 1)
            for (i = 0; i < ctx.n; i++) {
                double want = 3.0 * i + 1.0;
                if (ctx.recv_strided)
                    ok = ok && ctx.strided[2 * i] == want &&
                         ctx.strided[2 * i + 1] == -1.0;
                else
                    ok = ok && ctx.contig[i] == want;
            }
        if (rank == 1)
            MPI_Send(&ok, 1, MPI_INT, 0, 2, MPI_COMM_WORLD);
        else
            MPI_Recv(&ok, 1, MPI_INT, 1, 2, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        bench_run(&c, sv_body, &ctx, ok);
        MPI_Type_free(&ctx.vec);
        free(ctx.strided);
        free(ctx.contig);
    }
    bench_finish();
    return 0;
}
