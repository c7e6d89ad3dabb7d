-- Heartbeats: event sources that must check in every intervalSeconds, else source.silent.
CREATE TABLE `Heartbeat` (
    `id` CHAR(36) NOT NULL,
    `projectId` CHAR(36) NOT NULL,
    `name` VARCHAR(120) NOT NULL,
    `intervalSeconds` INTEGER NOT NULL,
    `lastSeenAt` DATETIME(3) NULL,
    `dueBy` DATETIME(3) NOT NULL,
    `silentSince` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `Heartbeat_projectId_name_key`(`projectId`, `name`),
    INDEX `Heartbeat_silentSince_dueBy_idx`(`silentSince`, `dueBy`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `Heartbeat` ADD CONSTRAINT `Heartbeat_projectId_fkey` FOREIGN KEY (`projectId`) REFERENCES `Project`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;
