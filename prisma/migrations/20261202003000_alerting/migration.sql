-- Alerts with a lifecycle, escalation policies and on-call schedules (docs/alerting.md).

-- AlterTable
ALTER TABLE `Rule` ADD COLUMN `targetSchedules` JSON NULL,
    ADD COLUMN `alert` JSON NULL,
    ADD COLUMN `escalationPolicyId` CHAR(36) NULL;

-- AlterTable
ALTER TABLE `Notification` ADD COLUMN `alertId` CHAR(36) NULL,
    ADD COLUMN `alertStep` INTEGER NULL;

-- CreateTable
CREATE TABLE `Alert` (
    `id` CHAR(36) NOT NULL,
    `projectId` CHAR(36) NOT NULL,
    `ruleId` CHAR(36) NULL,
    `policyId` CHAR(36) NULL,
    `dedupKey` VARCHAR(255) NOT NULL,
    `openKey` CHAR(64) NULL,
    `status` ENUM('triggered', 'acknowledged', 'resolved') NOT NULL DEFAULT 'triggered',
    `title` VARCHAR(200) NOT NULL,
    `body` VARCHAR(2000) NOT NULL,
    `eventCount` INTEGER NOT NULL DEFAULT 1,
    `lastEventId` CHAR(36) NULL,
    `lastEventAt` DATETIME(3) NOT NULL,
    `nextStep` INTEGER NOT NULL DEFAULT 0,
    `cycle` INTEGER NOT NULL DEFAULT 0,
    `nextStepAt` DATETIME(3) NULL,
    `acknowledgedAt` DATETIME(3) NULL,
    `acknowledgedBy` CHAR(36) NULL,
    `resolvedAt` DATETIME(3) NULL,
    `resolvedBy` CHAR(36) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `Alert_projectId_openKey_key`(`projectId`, `openKey`),
    INDEX `Alert_projectId_status_createdAt_idx`(`projectId`, `status`, `createdAt`),
    INDEX `Alert_ruleId_idx`(`ruleId`),
    INDEX `Alert_policyId_idx`(`policyId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `AlertEntry` (
    `id` CHAR(36) NOT NULL,
    `projectId` CHAR(36) NOT NULL,
    `alertId` CHAR(36) NOT NULL,
    `type` VARCHAR(32) NOT NULL,
    `step` INTEGER NULL,
    `eventId` CHAR(36) NULL,
    `actorId` CHAR(36) NULL,
    `metadata` JSON NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `AlertEntry_alertId_eventId_key`(`alertId`, `eventId`),
    INDEX `AlertEntry_projectId_alertId_createdAt_idx`(`projectId`, `alertId`, `createdAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `EscalationPolicy` (
    `id` CHAR(36) NOT NULL,
    `projectId` CHAR(36) NOT NULL,
    `name` VARCHAR(120) NOT NULL,
    `description` VARCHAR(500) NULL,
    `steps` JSON NOT NULL,
    `repeat` INTEGER NOT NULL DEFAULT 0,
    `renotifyMinutes` INTEGER NULL,
    `fallbackPolicyId` CHAR(36) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `deletedAt` DATETIME(3) NULL,

    UNIQUE INDEX `EscalationPolicy_projectId_name_key`(`projectId`, `name`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Schedule` (
    `id` CHAR(36) NOT NULL,
    `projectId` CHAR(36) NOT NULL,
    `name` VARCHAR(120) NOT NULL,
    `description` VARCHAR(500) NULL,
    `timeZone` VARCHAR(64) NOT NULL,
    `layers` JSON NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `deletedAt` DATETIME(3) NULL,

    UNIQUE INDEX `Schedule_projectId_name_key`(`projectId`, `name`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `ScheduleOverride` (
    `id` CHAR(36) NOT NULL,
    `projectId` CHAR(36) NOT NULL,
    `scheduleId` CHAR(36) NOT NULL,
    `userId` CHAR(36) NOT NULL,
    `startsAt` DATETIME(3) NOT NULL,
    `endsAt` DATETIME(3) NOT NULL,
    `createdBy` CHAR(36) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `ScheduleOverride_projectId_scheduleId_startsAt_idx`(`projectId`, `scheduleId`, `startsAt`),
    INDEX `ScheduleOverride_scheduleId_idx`(`scheduleId`),
    INDEX `ScheduleOverride_userId_idx`(`userId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateIndex
CREATE INDEX `Rule_escalationPolicyId_idx` ON `Rule`(`escalationPolicyId`);

-- CreateIndex
CREATE INDEX `Notification_alertId_idx` ON `Notification`(`alertId`);

-- AddForeignKey
ALTER TABLE `Rule` ADD CONSTRAINT `Rule_escalationPolicyId_fkey` FOREIGN KEY (`escalationPolicyId`) REFERENCES `EscalationPolicy`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Notification` ADD CONSTRAINT `Notification_alertId_fkey` FOREIGN KEY (`alertId`) REFERENCES `Alert`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Alert` ADD CONSTRAINT `Alert_projectId_fkey` FOREIGN KEY (`projectId`) REFERENCES `Project`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Alert` ADD CONSTRAINT `Alert_ruleId_fkey` FOREIGN KEY (`ruleId`) REFERENCES `Rule`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Alert` ADD CONSTRAINT `Alert_policyId_fkey` FOREIGN KEY (`policyId`) REFERENCES `EscalationPolicy`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `AlertEntry` ADD CONSTRAINT `AlertEntry_projectId_fkey` FOREIGN KEY (`projectId`) REFERENCES `Project`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `AlertEntry` ADD CONSTRAINT `AlertEntry_alertId_fkey` FOREIGN KEY (`alertId`) REFERENCES `Alert`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `EscalationPolicy` ADD CONSTRAINT `EscalationPolicy_projectId_fkey` FOREIGN KEY (`projectId`) REFERENCES `Project`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Schedule` ADD CONSTRAINT `Schedule_projectId_fkey` FOREIGN KEY (`projectId`) REFERENCES `Project`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ScheduleOverride` ADD CONSTRAINT `ScheduleOverride_projectId_fkey` FOREIGN KEY (`projectId`) REFERENCES `Project`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ScheduleOverride` ADD CONSTRAINT `ScheduleOverride_scheduleId_fkey` FOREIGN KEY (`scheduleId`) REFERENCES `Schedule`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ScheduleOverride` ADD CONSTRAINT `ScheduleOverride_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
