# VPC with a public and a private subnet in each of two zones. Training and serving run in the
# private subnets; they reach S3 through a gateway endpoint (no NAT traffic charges) and
# everything else through NAT: one NAT gateway, or one per zone with high_availability.

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  zones       = slice(data.aws_availability_zones.available.names, 0, 2)
  nat_count   = var.high_availability ? 2 : 1
  prefix      = "${var.name}-${var.environment}"
  subnet_bits = 24 - tonumber(split("/", var.network_cidr)[1])
  tags = merge(var.labels, {
    platform    = var.name
    environment = var.environment
    project     = var.project
    managed-by  = "terraform"
  })
}

resource "aws_vpc" "this" {
  cidr_block           = var.network_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = local.prefix })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = local.prefix })
}

resource "aws_subnet" "public" {
  count             = 2
  vpc_id            = aws_vpc.this.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.network_cidr, local.subnet_bits, count.index)
  tags              = merge(local.tags, { Name = "${local.prefix}-public-${count.index}", tier = "public" })
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.this.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.network_cidr, local.subnet_bits, count.index + 10)
  tags              = merge(local.tags, { Name = "${local.prefix}-private-${count.index}", tier = "private" })
}

resource "aws_eip" "nat" {
  count  = local.nat_count
  domain = "vpc"
  tags   = merge(local.tags, { Name = "${local.prefix}-nat-${count.index}" })
}

resource "aws_nat_gateway" "this" {
  count         = local.nat_count
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(local.tags, { Name = "${local.prefix}-${count.index}" })
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
  tags = merge(local.tags, { Name = "${local.prefix}-public" })
}

resource "aws_route_table_association" "public" {
  count          = 2
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  count  = 2
  vpc_id = aws_vpc.this.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[min(count.index, local.nat_count - 1)].id
  }
  tags = merge(local.tags, { Name = "${local.prefix}-private-${count.index}" })
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  tags              = merge(local.tags, { Name = "${local.prefix}-s3" })
}

# Training jobs, endpoints and notebooks: no inbound at all, outbound HTTPS only.
resource "aws_security_group" "workloads" {
  name        = "${local.prefix}-workloads"
  description = "ML workloads: no inbound, HTTPS out"
  vpc_id      = aws_vpc.this.id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.workloads.id
  description       = "HTTPS to AWS APIs, S3 and the registry"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
