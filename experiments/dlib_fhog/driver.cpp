// aubench: feeds images to dlib::extract_fhog_features (dlib 19.24, header-only) and writes the features.
// Input file: records of int32 h, w, channels (1 or 3, BGR interleaved), cell_size, then h*w*channels bytes.
// Output file: per record int32 rows, cols, then rows*cols*31 float32 (row, col, feature order).
#include <dlib/image_transforms/fhog.h>
#include <dlib/pixel.h>
#include <cstdio>
#include <vector>
int main(int argc, char** argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s IN.bin OUT.bin\n", argv[0]); return 2; }
    FILE* in = fopen(argv[1], "rb"); FILE* out = fopen(argv[2], "wb");
    if (!in || !out) { fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]); return 2; }
    int hdr[4];
    while (fread(hdr, sizeof(int), 4, in) == 4) {
        int h = hdr[0], w = hdr[1], c = hdr[2], cell = hdr[3];
        std::vector<unsigned char> buf((size_t)h * w * c);
        if (fread(buf.data(), 1, buf.size(), in) != buf.size()) return 1;
        dlib::array2d<dlib::matrix<float,31,1>> hog;
        if (c == 3) {
            dlib::array2d<dlib::bgr_pixel> img(h, w);
            for (int r = 0; r < h; ++r) for (int x = 0; x < w; ++x) {
                const unsigned char* p = &buf[((size_t)r * w + x) * 3];
                img[r][x] = dlib::bgr_pixel(p[0], p[1], p[2]);
            }
            dlib::extract_fhog_features(img, hog, cell);
        } else {
            dlib::array2d<unsigned char> img(h, w);
            for (int r = 0; r < h; ++r) for (int x = 0; x < w; ++x) img[r][x] = buf[(size_t)r * w + x];
            dlib::extract_fhog_features(img, hog, cell);
        }
        int dims[2] = {(int)hog.nr(), (int)hog.nc()};
        fwrite(dims, sizeof(int), 2, out);
        for (long r = 0; r < hog.nr(); ++r) for (long x = 0; x < hog.nc(); ++x) for (int o = 0; o < 31; ++o) {
            float v = hog[r][x](o); fwrite(&v, sizeof(float), 1, out);
        }
    }
    fclose(out);
    return 0;
}
