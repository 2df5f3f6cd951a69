/* GloVe's optimiser as the paper and the reference release describe it, for comparison with
 * seqtool's mini-batch version (benchmarks/bench_embed.py --part reference builds and runs it).
 *
 * Per non-zero entry, in a fixed shuffled order, one AdaGrad step on w_i, w~_j, b_i, b~_j:
 *   fdiff = f(X_ij) * (w_i . w~_j + b_i + b~_j - log X_ij) * eta
 *   w_i -= fdiff * w~_j / sqrt(G_i),  G_i += (fdiff * w~_j)^2   (likewise for w~_j, the biases)
 * with G starting at 1 and each gradient component clipped to [-100, 100]; W, W~ and the
 * biases start uniform in [-0.5, 0.5] / dim. Output: W + W~ as float32.
 *
 * usage: glove_reference DIR NNZ VOCAB DIM EPOCHS ETA X_MAX SEED
 *   reads DIR/rows.i32 DIR/cols.i32 DIR/vals.f64 (already shuffled), writes DIR/vectors.f32 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void *read_all(const char *dir, const char *name, size_t size, long n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    void *buf = malloc(size * n);
    if (!f || !buf || fread(buf, size, n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", path); exit(1); }
    fclose(f);
    return buf;
}

static double clip(double x) { return x > 100 ? 100 : x < -100 ? -100 : x; }

int main(int argc, char **argv) {
    if (argc != 9) { fprintf(stderr, "usage: %s DIR NNZ VOCAB DIM EPOCHS ETA X_MAX SEED\n", argv[0]); return 2; }
    const char *dir = argv[1];
    long n = atol(argv[2]);
    int vocab = atoi(argv[3]), dim = atoi(argv[4]), epochs = atoi(argv[5]);
    double eta = atof(argv[6]), x_max = atof(argv[7]);
    srand((unsigned)atoi(argv[8]));
    int *rows = read_all(dir, "rows.i32", 4, n), *cols = read_all(dir, "cols.i32", 4, n);
    double *vals = read_all(dir, "vals.f64", 8, n);
    int stride = dim + 1; /* the bias is the last component */
    long size = 2L * vocab * stride; /* rows 0..V-1: W; rows V..2V-1: W~ */
    double *w = malloc(sizeof(double) * size), *g = malloc(sizeof(double) * size);
    for (long i = 0; i < size; i++) { w[i] = (rand() / (double)RAND_MAX - 0.5) / dim; g[i] = 1.0; }
    for (int e = 0; e < epochs; e++) {
        double cost = 0;
        for (long k = 0; k < n; k++) {
            double *w1 = w + (long)rows[k] * stride, *w2 = w + ((long)cols[k] + vocab) * stride;
            double *g1 = g + (long)rows[k] * stride, *g2 = g + ((long)cols[k] + vocab) * stride;
            double dot = 0;
            for (int b = 0; b < dim; b++) dot += w1[b] * w2[b];
            double diff = dot + w1[dim] + w2[dim] - log(vals[k]);
            double weight = vals[k] > x_max ? 1.0 : pow(vals[k] / x_max, 0.75);
            double fdiff = weight * diff;
            cost += 0.5 * fdiff * diff;
            fdiff *= eta;
            for (int b = 0; b < dim; b++) {
                double t1 = clip(fdiff * w2[b]), t2 = clip(fdiff * w1[b]);
                w1[b] -= t1 / sqrt(g1[b]);
                w2[b] -= t2 / sqrt(g2[b]);
                g1[b] += t1 * t1;
                g2[b] += t2 * t2;
            }
            w1[dim] -= fdiff / sqrt(g1[dim]);
            w2[dim] -= fdiff / sqrt(g2[dim]);
            g1[dim] += fdiff * fdiff;
            g2[dim] += fdiff * fdiff;
        }
        fprintf(stderr, "epoch %d cost %.6f\n", e + 1, cost / n);
    }
    float *out = malloc(sizeof(float) * (long)vocab * dim);
    for (long i = 0; i < vocab; i++)
        for (int b = 0; b < dim; b++) out[i * dim + b] = (float)(w[i * stride + b] + w[(i + vocab) * stride + b]);
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors.f32", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(out, sizeof(float), (long)vocab * dim, f) != (size_t)((long)vocab * dim)) return 1;
    return fclose(f) != 0;
}
