/* The root's emulated IDE disk for its children: the primary ATA channel (command block
   1F0h-1F7h, control block 3F6h) with one LBA drive and PIO reads: READ SECTORS (20h) hands the
   sectors out word by word through the data register, so a child pays one intercept per word
   (256 per sector) plus its status reads, the cost Hyper-V's emulated IDE path is known for.
   The disk holds a pattern, word i of sector s = (s << 8) ^ i ^ 0xa5a5, which the child checks.
   ATA/ATAPI-6 (T13/1410D) 7.15 "Status register", 8.27 "READ SECTORS", 9.5 "PIO data-in".
   Context: root OS, ring 0, 64-bit, interrupts off. */
#include "root.h"

#define ATA_DATA 0x1f0
#define ATA_ERROR 0x1f1
#define ATA_SECTOR_COUNT 0x1f2
#define ATA_LBA_LOW 0x1f3
#define ATA_LBA_MID 0x1f4
#define ATA_LBA_HIGH 0x1f5
#define ATA_DEVICE 0x1f6
#define ATA_STATUS_COMMAND 0x1f7
#define ATA_ALT_STATUS_CONTROL 0x3f6
#define ATA_STATUS_DRDY 0x40
#define ATA_STATUS_DRQ 0x08
#define ATA_STATUS_ERR 0x01
#define ATA_ERROR_ABRT 0x04
#define ATA_CMD_READ_SECTORS 0x20
#define DISK_SECTORS 64

static struct {
    uint8_t count, lba[3], device, status, error;
    uint32_t lba_now;        /* the sector being transferred */
    unsigned sectors_left, word;
} ata = {.status = ATA_STATUS_DRDY};

static uint16_t disk_word(uint32_t sector, unsigned i) { return (uint16_t)((sector << 8) ^ i ^ 0xa5a5); }

static void command(uint8_t cmd) {
    const uint32_t lba = ata.lba[0] | ((uint32_t)ata.lba[1] << 8) | ((uint32_t)ata.lba[2] << 16) |
                         ((uint32_t)(ata.device & 0x0f) << 24);
    const unsigned count = ata.count ? ata.count : 256;  /* 0 means 256 sectors */
    if (cmd != ATA_CMD_READ_SECTORS || !(ata.device & 0x40) || lba + count > DISK_SECTORS) {
        ata.status = ATA_STATUS_DRDY | ATA_STATUS_ERR;  /* unsupported, CHS, or past the end */
        ata.error = ATA_ERROR_ABRT;
        return;
    }
    ata.lba_now = lba;
    ata.sectors_left = count;
    ata.word = 0;
    ata.error = 0;
    ata.status = ATA_STATUS_DRDY | ATA_STATUS_DRQ;  /* the first sector is ready at once */
}

static uint32_t read_data(void) {
    if (!(ata.status & ATA_STATUS_DRQ)) return 0xffff;
    const uint16_t w = disk_word(ata.lba_now, ata.word);
    if (++ata.word == 256) {
        ata.word = 0;
        ++ata.lba_now;
        if (--ata.sectors_left == 0) ata.status = ATA_STATUS_DRDY;
    }
    return w;
}

int root_ide_access(uint16_t port, int is_write, uint32_t value, uint64_t *result) {
    uint8_t *reg = NULL;
    switch (port) {
    case ATA_DATA: *result = is_write ? 0 : read_data(); return 1;
    case ATA_ERROR: *result = ata.error; return 1;  /* writes: features, ignored */
    case ATA_SECTOR_COUNT: reg = &ata.count; break;
    case ATA_LBA_LOW: reg = &ata.lba[0]; break;
    case ATA_LBA_MID: reg = &ata.lba[1]; break;
    case ATA_LBA_HIGH: reg = &ata.lba[2]; break;
    case ATA_DEVICE: reg = &ata.device; break;
    case ATA_STATUS_COMMAND:
        if (is_write) command((uint8_t)value);
        *result = ata.status;
        return 1;
    case ATA_ALT_STATUS_CONTROL: *result = ata.status; return 1;  /* control writes: no interrupts anyway */
    default: return 0;
    }
    if (is_write) *reg = (uint8_t)value;
    *result = *reg;
    return 1;
}
