# One ML platform on three clouds, from every module of the library: serving and GPU training
# on AWS (with the state backend), a Vertex AI research workspace on GCP, an Azure ML workspace
# on Azure; each cloud with its network, artifact store and container registry. Static checks
# only here (no google or azurerm provider offline): fmt, the interface of every module call,
# the YAML policies and the lint rules.

provider "aws" {
  region = var.aws_region
}

provider "google" {
  project = var.gcp_project_id
  region  = var.gcp_region
}

provider "azurerm" {
  features {}
}

locals {
  tags   = { cost-center = var.cost_center, owner = "platform-team", stack = var.name }
  labels = { cost-center = var.cost_center, owner = "platform-team", stack = var.name }
}

# --------------------------------------------------------------------------- AWS

module "aws_state" {
  source      = "../../modules/aws/state-backend"
  bucket_name = "${var.name}-tfstate"
  tags        = local.tags
}

module "aws_network" {
  source             = "../../modules/aws/network"
  name               = "${var.name}-aws"
  availability_zones = ["${var.aws_region}a", "${var.aws_region}b"]
  tags               = local.tags
}

module "aws_artifacts" {
  source = "../../modules/aws/object-store"
  name   = "${var.name}-artifacts"
  tags   = local.tags
}

module "aws_registry" {
  source      = "../../modules/aws/container-registry"
  name        = "${var.name}/serving"
  kms_key_arn = module.aws_artifacts.kms_key_arn
  tags        = local.tags
}

data "aws_iam_policy_document" "sagemaker_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "serving" {
  name               = "${var.name}-serving"
  assume_role_policy = data.aws_iam_policy_document.sagemaker_assume.json
  tags               = local.tags
}

module "aws_serving" {
  source             = "../../modules/aws/ml-serving"
  name               = "${var.name}-endpoint"
  model_image        = var.model_image
  model_data_url     = "s3://${module.aws_artifacts.bucket}/models/churn/model.tar.gz"
  execution_role_arn = aws_iam_role.serving.arn
  subnet_ids         = module.aws_network.private_subnet_ids
  security_group_ids = [module.aws_network.security_group_id]
  capture_s3_uri     = "s3://${module.aws_artifacts.bucket}/capture"
  kms_key_arn        = module.aws_artifacts.kms_key_arn
  tags               = local.tags
}

data "aws_ssm_parameter" "gpu_ami" {
  name = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
}

module "aws_gpu" {
  source             = "../../modules/aws/gpu-compute"
  name               = "${var.name}-train"
  ami_id             = nonsensitive(data.aws_ssm_parameter.gpu_ami.value)
  instance_types     = ["g5.xlarge", "g6.xlarge"]
  subnet_ids         = module.aws_network.private_subnet_ids
  security_group_ids = [module.aws_network.security_group_id]
  tags               = local.tags
}

# --------------------------------------------------------------------------- GCP

resource "google_kms_key_ring" "artifacts" {
  name     = "${var.name}-artifacts"
  location = var.gcp_region
}

resource "google_kms_crypto_key" "artifacts" {
  name            = "${var.name}-artifacts"
  key_ring        = google_kms_key_ring.artifacts.id
  rotation_period = "7776000s"
  labels          = local.labels
  lifecycle {
    prevent_destroy = true
  }
}

data "google_storage_project_service_account" "gcs" {}

resource "google_kms_crypto_key_iam_member" "gcs" {
  crypto_key_id = google_kms_crypto_key.artifacts.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

module "gcp_network" {
  source     = "../../modules/gcp/network"
  project_id = var.gcp_project_id
  name       = "${var.name}-gcp"
  region     = var.gcp_region
  labels     = local.labels
}

module "gcp_artifacts" {
  source       = "../../modules/gcp/object-store"
  project_id   = var.gcp_project_id
  name         = "${var.name}-${var.gcp_project_id}-artifacts"
  location     = var.gcp_region
  kms_key_name = google_kms_crypto_key.artifacts.id
  labels       = local.labels
  depends_on   = [google_kms_crypto_key_iam_member.gcs]
}

module "gcp_registry" {
  source       = "../../modules/gcp/container-registry"
  project_id   = var.gcp_project_id
  name         = "${var.name}-images"
  location     = var.gcp_region
  kms_key_name = google_kms_crypto_key.artifacts.id
  readers      = ["serviceAccount:${module.gcp_workspace.service_account_email}"]
  labels       = local.labels
}

module "gcp_workspace" {
  source     = "../../modules/gcp/ml-workspace"
  project_id = var.gcp_project_id
  name       = "${var.name}-lab"
  region     = var.gcp_region
  zone       = "${var.gcp_region}-a"
  network    = module.gcp_network.network_id
  subnet     = module.gcp_network.subnet_id
  labels     = local.labels
}

# --------------------------------------------------------------------------- Azure

resource "azurerm_resource_group" "this" {
  name     = "${var.name}-ml"
  location = var.azure_location
  tags     = local.tags
}

module "azure_network" {
  source              = "../../modules/azure/network"
  name                = "${var.name}-azure"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.azure_location
  tags                = local.tags
}

module "azure_artifacts" {
  source              = "../../modules/azure/object-store"
  name                = "${var.name}artifacts"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.azure_location
  tags                = local.tags
}

resource "azurerm_private_dns_zone" "acr" {
  name                = "privatelink.azurecr.io"
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

module "azure_registry" {
  source                     = "../../modules/azure/container-registry"
  name                       = "${var.name}images"
  resource_group_name        = azurerm_resource_group.this.name
  location                   = var.azure_location
  private_endpoint_subnet_id = module.azure_network.subnet_id
  private_dns_zone_ids       = [azurerm_private_dns_zone.acr.id]
  pull_principal_ids         = [module.azure_workspace.identity_principal_id]
  tags                       = local.tags
}

module "azure_workspace" {
  source                = "../../modules/azure/ml-workspace"
  name                  = var.name
  resource_group_name   = azurerm_resource_group.this.name
  location              = var.azure_location
  container_registry_id = module.azure_registry.registry_id
  allowed_ip_ranges     = var.deployer_ip_ranges
  tags                  = local.tags
}
