package dev.dmp.agent.kernel;

/**
 * The logical block size a volume is attached with. NBD_SET_SIZE_BLOCKS gives the size as a whole
 * number of blocks, so the block size must divide the volume size: the largest of 4096, 2048, 1024
 * and 512 that does (a 1 GB = 10^9 byte volume gets 512, a 64 MiB one 4096).
 */
public final class BlockSize {
    public static final int MAX = 4096;
    public static final int MIN = 512;

    private BlockSize() {}

    /** The block size for a volume of {@code size} bytes, or 0 if it is not a positive multiple of 512. */
    public static int forSize(long size) {
        if (size <= 0) {
            return 0;
        }
        for (int b = MAX; b >= MIN; b /= 2) {
            if (size % b == 0) {
                return b;
            }
        }
        return 0;
    }
}
